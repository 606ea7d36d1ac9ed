"""A backend that loads its model only once something is to be generated.

:class:`LazyBackend` wraps a backend: ``load()`` readies only what rendering a prompt
needs (the backend's ``load_renderer()`` where it has one: the tokenizer of a local
model; else the whole ``load()``), and the first ``generate()`` loads the rest. A
resumed sample stage whose rollouts are all journaled (or in the corpus registry)
renders its prompts to find their rollout ids and never loads the teacher. Each real
load bumps the counter ``<namespace>.model_loads``: the manifest's proof that none
happened.
"""
from __future__ import annotations

import threading
from typing import Any, List, Optional, Sequence

from apache_beam.metrics import Metrics

from transforms.models.backends.base import Backend, GenerationRequest, GenerationResult

#: The counter (in the stage's namespace) of the model loads a lazy backend made.
MODEL_LOADS = "model_loads"


class LazyBackend:
    """``backend`` with its model loaded at the first ``generate`` (see the module doc)."""

    def __init__(self, backend: Backend, namespace: str):
        self.backend = backend
        self.namespace = namespace
        self.name = getattr(backend, "name", "backend")
        #: a streaming backend (the server client) stays one behind the wrapper
        self.streams = bool(getattr(backend, "streams", False))
        self._loaded = False
        self._error: Optional[BaseException] = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """Ready the renderer only (the whole backend where it has no lighter way)."""
        light = getattr(self.backend, "load_renderer", None)
        if light is None:
            self._load_model()
        else:
            light()

    def _load_model(self) -> None:
        with self._lock:
            if self._loaded:
                return
            if self._error is not None:  # a load that failed fails every later call at once
                raise RuntimeError(f"the model failed to load: {self._error}")
            try:
                self.backend.load()
            except Exception as exc:
                self._error = exc
                raise
            self._loaded = True
            try:
                Metrics.counter(self.namespace, MODEL_LOADS).inc()
            except Exception:  # noqa: BLE001 - outside a pipeline (tests) there is no metrics context
                pass

    def render(self, messages: List[dict]) -> str:
        return self.backend.render(messages)

    def generate(self, requests: Sequence[GenerationRequest], *on_sample: Any) -> List[GenerationResult]:
        """``on_sample``: passed on to a streaming backend (see ``streams``)."""
        if not requests:  # a batch whose samples are all persisted asks nothing
            return []
        self._load_model()
        return self.backend.generate(requests, *on_sample)  # type: ignore[call-arg]
