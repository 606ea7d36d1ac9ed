"""Launchers of reasoning-corpus: one thin build()/run(argv) per stage, and the CLI."""
