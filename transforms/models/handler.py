"""The one Beam ``ModelHandler`` for chat generation, built from a :class:`ModelConfig`.

``RunInference`` (through :class:`transforms.models.step.ModelStep`) calls

* ``load_model()``: builds the configured backend and loads it, once per worker
  process (or once per worker VM with ``share_model``);
* ``run_inference(batch, model)``: one :class:`Generation` per :class:`ChatRequest`
  of the batch (up to ``batch_size`` requests per call).

The chat handler counts the tokens of the requests it answers (:func:`count_usage`: the
counters ``<namespace>.prompt_tokens`` and ``<namespace>.completion_tokens``, which the
launcher turns into a stage manifest's ``tokens`` and ``cost``; the sampler counts its
own, in ``EmitRollouts``).

A request is chat turns, the seeds of its samples (one sample per seed) and an
optional prefill, the start of the assistant turn the model continues. A request
that fails (rendering, the backend raising on it, a result carrying an error)
fails alone: its Generation carries the error, the rest of the batch its samples.

A stage that decides what to ask only once the prompt is rendered (the sampler's
resume) subclasses :class:`BackendModelHandler` (the same loading, batching and model
sharing, its own ``run_inference`` and prediction type) and calls
:func:`generate_isolated` itself.
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypeVar

from apache_beam.ml.inference.base import ModelHandler

from transforms.models.backends.base import Backend

# the plain parts live in transforms.models.chat (no Beam ML import); named here too,
# where the handler's users have always found them
from transforms.models.chat import (  # noqa: F401
    METRICS_NAMESPACE,
    ChatRequest,
    Generation,
    OnSample,
    answer_progress,
    count_usage,
    generate_chat,
    generate_isolated,
    render,
    stream_batch_size,
    streams,
    usage,
)
from transforms.models.config import ModelConfig, make_backend

ExampleT = TypeVar("ExampleT")
PredictionT = TypeVar("PredictionT")


class BackendModelHandler(ModelHandler[ExampleT, PredictionT, Backend]):
    """Loads the backend of a :class:`ModelConfig`; subclasses answer the batches.

    Batches hold 1 to ``config.batch_size`` examples; with ``config.share_model``
    one model serves every process of a worker VM. ``namespace``: where
    RunInference reports its own metrics (the calling stage's)."""

    def __init__(self, config: ModelConfig, namespace: str = METRICS_NAMESPACE, samples_per_request: int = 1):
        batch = stream_batch_size(config, samples_per_request)
        super().__init__(min_batch_size=batch if config.backend == "openai" else 1, max_batch_size=batch)
        self.model_config = config
        self._namespace = namespace

    def share_model_across_processes(self) -> bool:
        return self.model_config.share_model

    def load_model(self) -> Backend:
        backend = make_backend(self.model_config)
        backend.load()
        return backend

    def get_metrics_namespace(self) -> str:
        return self._namespace


class ChatModelHandler(BackendModelHandler[ChatRequest, Generation]):
    """Loads the backend of a :class:`ModelConfig` and answers :class:`ChatRequest` batches
    (see :class:`BackendModelHandler`); counts the tokens of its calls (:func:`count_usage`)."""

    def run_inference(self, batch: Sequence[ChatRequest], model: Backend,
                      inference_args=None) -> Iterable[Generation]:
        generations = generate_chat(model, batch)
        count_usage(self._namespace, generations)
        return generations
