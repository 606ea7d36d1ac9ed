"""The judge in the Beam stage: its own model step, then a plain rule.

:func:`judge_undecided` takes the VerifiedRollouts the rules left undecided
(:func:`~transforms.verify.batch.needs_judge`) and

* ``JudgeRequests``: pairs each with its request (:func:`judge_task`: the item of
  :func:`~transforms.verify.batch.judge_item`, asked with
  :func:`~transforms.verify.judge.judge_request`, its seed derived from its content);
* ``Judge``: a :class:`~transforms.models.step.ModelStep` (``RunInference``, the
  launcher's model resource hints) over a :class:`JudgeModelHandler` built from
  ``JudgeConfig.model_config()``, keyed by the rollout, ``batch_size`` requests per call;
* ``JudgeVerdicts`` (:class:`JudgeVerdicts`, a :class:`~transforms.core.RuleStep`,
  step ``verify_judge``): the answer parsed into the verdict fields (verifier
  ``llm-judge``, reason ``judge: <rationale>``; for an item without a reference the
  rubric's score, :mod:`transforms.verify.rubric`), counted as ``verdict_<verdict>``;
* ``JudgeFailed`` (:func:`failed_judge_batch`, the same step): every rollout of a batch
  the model step failed on is dead-lettered (as the Rollout it came in as).

A request that fails alone (the backend gave up on it) and a model that can't be
loaded give ``infra_unavailable`` verdicts, as the plain judge does.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler

from schemas.records import Rollout, VerifiedRollout, project
from transforms.core import Dead, RuleStep, StageOutputs, error_text, truncate
from transforms.models.handler import ChatModelHandler, ChatRequest, Generation, count_usage, generate_chat
from transforms.models.step import ModelStep
from transforms.verify.batch import judge_item
from transforms.verify.judge import (
    JudgeConfig,
    is_rubric,
    item_version,
    judge_request,
    judged_fields,
    judgement_of,
    unavailable,
)

STAGE = "curate"
#: The step of the judge's verdicts and of the dead letters of its failed batches.
JUDGE_STEP = "verify_judge"


class UnavailableModel:
    """What :meth:`JudgeModelHandler.load_model` gives when the judge can't be loaded
    (a plain object: Beam keeps a weak reference to the loaded model)."""

    def __init__(self, reason: str):
        self.reason = reason


class JudgeModelHandler(ChatModelHandler):
    """The chat handler of the judge's ModelConfig; a model that can't be loaded
    answers every request with its reason (``judge unavailable: …``, an
    ``infra_unavailable`` verdict) instead of failing the workers."""

    def load_model(self):
        try:
            return super().load_model()
        except Exception as exc:  # noqa: BLE001 - the verdicts say the judge is unavailable
            return UnavailableModel(unavailable(error_text(exc)))

    def run_inference(self, batch: Sequence[ChatRequest], model, inference_args=None) -> List[Generation]:
        if isinstance(model, UnavailableModel):
            return [Generation(request, "", None, model.reason) for request in batch]
        generations = generate_chat(model, batch)
        count_usage(self.get_metrics_namespace(), generations)
        return generations


def judge_handler(config: JudgeConfig) -> KeyedModelHandler:
    """The judge's handler, keyed: (VerifiedRollout, ChatRequest) → (VerifiedRollout, Generation)."""
    return KeyedModelHandler(JudgeModelHandler(config.model_config(), namespace=STAGE))


def judge_task(verified, config: JudgeConfig) -> Tuple[object, ChatRequest]:
    """(the verified rollout, the request that asks the judge about it)."""
    return verified, judge_request(judge_item(verified), config)


class JudgeVerdicts:
    """Rule: (VerifiedRollout, Generation) → the rollout with the judge's verdict fields;
    counts ``verdict_<verdict>`` (namespace ``curate``)."""

    def __init__(self, config: JudgeConfig):
        self.config = config

    def __call__(self, answered):
        verified, generation = answered
        item = judge_item(verified)
        judgement = judgement_of(generation, self.config.rubric if is_rubric(item) else None)
        beam.metrics.Metrics.counter(STAGE, f"verdict_{judgement.verdict}").inc()
        return verified._replace(**judged_fields(verified.extracted_answer, judgement,
                                                 item_version(item, self.config)))


def failed_judge_batch(failed) -> List[Dead]:
    """A dead letter per rollout of a batch the judge's model step failed on:
    ``(batch of (VerifiedRollout, request), (type, repr, traceback))``."""
    batch, (_, exc_repr, trace) = failed
    error = f"judge: {exc_repr}\n{truncate(''.join(trace), 1500)}"
    return [Dead(error, project(Rollout, verified)) for verified, _ in batch]


def judge_undecided(undecided, config: JudgeConfig) -> Tuple[StageOutputs, StageOutputs]:
    """Apply the judge's steps (in the calling composite) to the VerifiedRollouts the rules
    left undecided: (the judged rollouts' StageOutputs, the failed batches' dead letters)."""
    model = (undecided
             | "JudgeRequests" >> beam.Map(judge_task, config)
             | "Judge" >> ModelStep("Judge", judge_handler(config)))
    judged = model.results | "JudgeVerdicts" >> RuleStep(
        STAGE, JUDGE_STEP, JudgeVerdicts(config), output_type=VerifiedRollout)
    failed = model.failed | "JudgeFailed" >> RuleStep(
        STAGE, JUDGE_STEP, failed_judge_batch, output_type=VerifiedRollout)
    return judged, failed
