"""Beam transforms of reasoning-corpus: one stage per module, each with a public
composite PTransform, its frozen ``<Stage>Config`` and plain rule functions."""
