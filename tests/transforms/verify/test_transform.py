"""The VerifyAnswers stage under every DirectRunner mode: verdicts, pass rates,
dead letters, the pass-rate band, and its rules called directly."""
import json
import os

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import make_rollout, make_verified
from transforms.core import Dead, Drop
from transforms.verify.config import VerifyConfig
from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.runner import Sandbox
from transforms.verify.transform import VerifyAnswers, VerifyRollouts, finish_rule

os.environ.setdefault("HF_HUB_OFFLINE", "1")


CODE_TESTS = json.dumps({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
GOOD_CODE = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
BAD_CODE = "```python\na, b = map(int, input().split())\nprint(a * b)\n```"


def _stage_inputs():
    no_gold = dict(reference_answer=None, prompt="Pick a number")
    return [
        make_rollout(rollout_id="a1", sample_index=0, answer="The answer is \\boxed{38}."),
        make_rollout(rollout_id="a2", sample_index=1, answer="23 + 15 = 37"),
        make_rollout(rollout_id="a3", sample_index=2, answer="\\boxed{38.0}"),
        make_rollout(rollout_id="a4", sample_index=3, answer="Hmm."),
        make_rollout(problem_id="p2", rollout_id="b1", reference_answer="\\frac{\\pi}{2}",
                     answer="<think>x</think> \\boxed{\\pi/2}"),
        make_rollout(problem_id="p3", rollout_id="c1", reference_answer=None, answer="\\boxed{4}"),
        make_rollout(problem_id="p4", rollout_id="d1", metadata="{not json", answer="\\boxed{4}"),
        make_rollout(problem_id="p5", rollout_id="e1", sample_index=0, answer="\\boxed{7}", **no_gold),
        make_rollout(problem_id="p5", rollout_id="e2", sample_index=1, answer="\\boxed{7.0}", **no_gold),
        make_rollout(problem_id="p5", rollout_id="e3", sample_index=2, answer="\\boxed{8}", **no_gold),
        make_rollout(problem_id="p6", rollout_id="f1", domain="knowledge", reference_answer="Paris",
                     answer="Paris"),
        make_rollout(problem_id="p7", rollout_id="g1", sample_index=0, domain="code", reference_answer=None,
                     tests=CODE_TESTS, completion=GOOD_CODE),
        make_rollout(problem_id="p7", rollout_id="g2", sample_index=1, domain="code", reference_answer=None,
                     tests=CODE_TESTS, completion=BAD_CODE),
    ]


def _expected_kept(sandbox_ok: bool):
    code = [("g1", "correct" if sandbox_ok else "infra_unavailable", 0.5 if sandbox_ok else 0.0),
            ("g2", "incorrect" if sandbox_ok else "infra_unavailable", 0.5 if sandbox_ok else 0.0)]
    return [
        ("a1", "correct", 0.5), ("a2", "incorrect", 0.5), ("a3", "correct", 0.5), ("a4", "no_answer", 0.5),
        ("b1", "correct", 1.0), ("c1", "unverifiable", 0.0),
        ("e1", "correct", 2 / 3), ("e2", "correct", 2 / 3), ("e3", "incorrect", 2 / 3),
        ("f1", "correct", 1.0),
    ] + code


STAGE_CONFIG = VerifyConfig(timeout_s=10, majority_vote=True, code=SandboxConfig(timeout_s=10))


def _run_stage(options=None):
    sandbox_ok = Sandbox(SandboxConfig()).unavailable() is None
    with test_pipeline.TestPipeline(options=options) as p:
        out = p | beam.Create(_stage_inputs()) | VerifyAnswers(STAGE_CONFIG)
        kept = out.kept | "Summary" >> beam.Map(lambda r: (r.rollout_id, r.verdict, round(r.pass_rate, 6)))
        expected = [(i, v, round(rate, 6)) for i, v, rate in _expected_kept(sandbox_ok)]
        assert_that(kept, equal_to(expected), label="kept")
        assert_that(
            out.dead | "DeadIds" >> beam.Map(lambda d: (d.record_id, d.stage, d.step)),
            equal_to([("d1", "curate", "verify")]),
            label="dead",
        )
        assert_that(out.rejected, equal_to([]), label="rejected")


def _verifier_children():
    """Live math-verify children of this process (other processes' ones don't count)."""
    found = set()
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{name}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        if b"transforms.verify.mathcheck" in cmdline and f"\nPPid:\t{os.getpid()}\n" in status \
                and "State:\tZ" not in status:
            found.add(int(name))
    return found


def test_verify_answers_pipeline_in_memory():
    before = _verifier_children()
    _run_stage()
    assert _verifier_children() <= before  # the DoFn's child was closed in teardown


def test_verify_answers_pipeline_multi_threading():
    _run_stage(PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_threading",
                                "--direct_num_workers=2"]))


@pytest.mark.slow
def test_verify_answers_pipeline_multi_processing():
    _run_stage(PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing",
                                "--direct_num_workers=2"]))


def test_pass_rate_band_rejects_whole_problems_in_the_stage():
    config = VerifyConfig(max_pass_rate=0.99)
    rollouts = [make_rollout(problem_id="solved", rollout_id=f"s{i}", sample_index=i, answer="\\boxed{38}")
                for i in range(2)] + [make_rollout(problem_id="half", rollout_id="h0", answer="\\boxed{38}"),
                                      make_rollout(problem_id="half", rollout_id="h1", sample_index=1,
                                                   answer="\\boxed{37}")]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: r.rollout_id), equal_to(["h0", "h1"]), label="kept")
        assert_that(out.rejected | beam.Map(lambda r: (r.record_id, r.step, r.reason)),
                    equal_to([("s0", "verify_pass_rate", "pass_rate_too_high"),
                              ("s1", "verify_pass_rate", "pass_rate_too_high")]), label="rejected")


# -- the rules, and what the steps count ---------------------------------------------


def test_verify_rule_called_directly_dead_letters_only_the_broken_rollout():
    rule = VerifyRollouts(VerifyConfig())
    rule.setup()
    try:
        out = list(rule([make_rollout(rollout_id="bad", metadata="{not json", answer="\\boxed{38}"),
                         make_rollout(rollout_id="ok", answer="\\boxed{38}")]))
    finally:
        rule.teardown()
    assert isinstance(out[0], Dead) and out[0].record.rollout_id == "bad" and "JSONDecodeError" in out[0].error
    assert (out[1].rollout_id, out[1].verdict, out[1].pass_rate) == ("ok", "correct", 0.0)


def test_finish_rule_drops_a_whole_problem_outside_the_band():
    config = VerifyConfig(max_pass_rate=0.99)
    solved = [make_verified(make_rollout(rollout_id=f"s{i}", sample_index=i), verdict="correct",
                            verdict_reason="numeric_equal") for i in range(2)]
    drops = finish_rule(("p1", solved), config)
    assert [(type(d), d.reason, d.record.rollout_id, d.record.pass_rate) for d in drops] == [
        (Drop, "pass_rate_too_high", "s0", 1.0), (Drop, "pass_rate_too_high", "s1", 1.0)]
    assert drops[0].detail == "pass rate 1.000 above the band [0, 0.99]"
    kept = finish_rule(("p1", solved), VerifyConfig())
    assert [r.rollout_id for r in kept] == ["s0", "s1"]


def test_stage_counts_verdicts_and_band_drops():
    """Every rejection of the stage has its counter curate.<step>.dropped_<reason>."""
    config = VerifyConfig(max_pass_rate=0.99)
    rollouts = [make_rollout(problem_id="solved", rollout_id=f"s{i}", sample_index=i, answer="\\boxed{38}")
                for i in range(3)] + [make_rollout(problem_id="half", rollout_id="h0", answer="\\boxed{37}"),
                                      make_rollout(problem_id="broken", rollout_id="x", metadata="[1]")]
    p = beam.Pipeline(runner="FnApiRunner")
    out = p | beam.Create(rollouts) | VerifyAnswers(config)
    assert_that(out.rejected | "Reasons" >> beam.Map(lambda r: (r.stage, r.step, r.reason)),
                equal_to([("curate", "verify_pass_rate", "pass_rate_too_high")] * 3), label="rejected")
    assert_that(out.dead | "Dead" >> beam.Map(lambda d: (d.step, d.record_id)), equal_to([("verify", "x")]),
                label="dead")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.namespace + "." + c.key.metric.name: c.committed
                for c in result.metrics().query()["counters"]}
    assert counters["curate.verify_pass_rate.dropped_pass_rate_too_high"] == 3
    assert counters["curate.verdict_correct"] == 3 and counters["curate.verdict_incorrect"] == 1
    assert counters["curate.verify.dead"] == 1
