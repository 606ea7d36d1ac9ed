"""Record factories for tests: every field filled, override what a test cares about."""
from schemas.records import SCHEMA_VERSION, Problem, Rollout, VerifiedRollout, project
from transforms.core import stable_hash
from transforms.verify.mathcheck import VerifierUnavailable


def problem(**kw) -> Problem:
    source = kw.pop("source", "test")
    source_id = kw.pop("source_id", "1")
    values = dict(
        problem_id=stable_hash(source, source_id), source=source, source_id=source_id,
        domain="math", kind="reasoning", prompt="What is 2 + 3?", reference_answer="5", choices=[],
        tests=None, difficulty="1", language="en", metadata=None, seed=1, config_hash="cfg",
        schema_version=SCHEMA_VERSION)
    values.update(kw)
    return Problem(**values)


def rollout(sample_index: int = 0, **kw) -> Rollout:
    base = problem(**{k: kw.pop(k) for k in list(kw) if k in Problem._fields})
    completion = kw.pop("completion", "2 + 3 = 5.\n\nThe answer is \\boxed{5}.")
    values = dict(
        rollout_id=stable_hash(base.problem_id, sample_index, completion), sample_index=sample_index,
        sample_seed=sample_index + 7, teacher_model="tiny", teacher_revision=None, backend="fake",
        temperature=0.7, top_p=0.95, max_tokens=64, completion=completion,
        reasoning="2 + 3 = 5.", answer="The answer is \\boxed{5}.", finish_reason="stop",
        prompt_tokens=10, completion_tokens=12, latency_s=0.1)
    values.update(kw)
    return project(Rollout, base, **values)


def verified(sample_index: int = 0, **kw) -> VerifiedRollout:
    verdict_fields = {k: kw.pop(k) for k in list(kw)
                      if k in ("extracted_answer", "verdict", "verifier", "verifier_version",
                               "verdict_reason", "pass_rate")}
    base = rollout(sample_index, **kw)
    values = dict(extracted_answer="5", verdict="correct", verifier="math-verify",
                  verifier_version="test", verdict_reason="equal", pass_rate=1.0)
    values.update(verdict_fields)
    return project(VerifiedRollout, base, **values)


# -- verify: a rollout to check, a verified one, and stand-ins for the math checker --


def make_rollout(**overrides) -> Rollout:
    """A Rollout of "What is 23 + 15?" (reference 38), every field filled."""
    values = {name: None for name in Rollout._fields}
    values.update(
        problem_id="p1", source="test", source_id="1", domain="math", kind="reasoning",
        prompt="What is 23 + 15?", reference_answer="38", choices=[], rollout_id="r1", sample_index=0,
        sample_seed=7, teacher_model="fake", backend="fake", temperature=0.7, top_p=0.95, max_tokens=256,
        completion="", reasoning="", answer="", finish_reason="stop", prompt_tokens=10,
        completion_tokens=20, latency_s=0.1, seed=1234, config_hash="cfg", schema_version="1.0",
    )
    values.update(overrides)
    return Rollout(**values)


def make_verified(rollout=None, **fields) -> VerifiedRollout:
    """``rollout`` (default :func:`make_rollout`) with verdict fields (default: unverifiable)."""
    values = dict(extracted_answer=None, verdict="unverifiable", verifier="none", verifier_version="",
                  verdict_reason="no_reference_answer", pass_rate=0.0)
    values.update(fields)
    return project(VerifiedRollout, rollout or make_rollout(), **values)


class NoMathVerifier:
    """Stands in for the child process where the cheap paths must decide."""

    version = "math-verify==test"

    def verify(self, gold, pred, timeout_s):
        raise AssertionError("math-verify should not be needed")


class DownMathVerifier(NoMathVerifier):
    """A math checker that is down: every call is VerifierUnavailable."""

    def verify(self, gold, pred, timeout_s):
        raise VerifierUnavailable("child not ready")
