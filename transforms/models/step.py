"""The model step: every model call of the project is a :class:`ModelStep`.

``pcoll | ModelStep("Generate", handler_or_config)`` applies Beam's ``RunInference``
(with exception handling) and returns :class:`ModelOutputs`: what the handler
returned, and the batches it failed on as ``(batch, (type, repr, traceback))``
(Beam's ``failed_inferences``), which the stage turns into dead letters.

The launcher puts resource hints (a GPU, memory) on model steps and only on them
(``--model_resource_hint``, ``--sample_resource_hint``: see
:mod:`pipelines.options`): it finds them in the built pipeline with
:func:`is_model_step`. Everything around a model step (joins, rules, writes) stays
on the default workers.
"""
from __future__ import annotations

import typing
from typing import Optional, Union

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, RunInference

from transforms.models.config import ModelConfig
from transforms.models.handler import ChatModelHandler


class ModelOutputs(typing.NamedTuple):
    """What a model step returns: the handler's outputs and the failed batches."""

    results: beam.PCollection
    failed: beam.PCollection


class ModelStep(beam.PTransform):
    """``RunInference`` over a handler (or a :class:`ChatModelHandler` built from a
    ModelConfig), marked as a model step for the launcher's resource hints.

    ``step``: the transform's label when none is given with ``>>``;
    ``inference_args``: passed to every ``run_inference`` call."""

    def __init__(self, step: str, handler_or_config: Union[ModelHandler, ModelConfig],
                 inference_args: Optional[dict] = None):
        super().__init__(label=step)
        self.step = step
        if isinstance(handler_or_config, ModelConfig):
            handler_or_config = ChatModelHandler(handler_or_config)
        self.handler = handler_or_config
        self.inference_args = inference_args

    def expand(self, pcoll):
        results, dlq = pcoll | "RunInference" >> RunInference(
            self.handler, inference_args=self.inference_args).with_exception_handling()
        return ModelOutputs(results, dlq.failed_inferences)


def is_model_step(transform) -> bool:
    """Whether a (built) transform is a model step."""
    return isinstance(transform, ModelStep)
