"""The sample stage through Beam: n rollouts per problem and dead letters through the
model step and RuleStep, counters, batching and runners, resume from the journal,
and (slow) the real SmolLM2 model from its converted directory."""
from __future__ import annotations

import dataclasses
import json
import os

os.environ["HF_HUB_OFFLINE"] = "1"

import apache_beam as beam  # noqa: E402
import pytest  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to, is_not_empty  # noqa: E402

from schemas.records import DeadLetter, Rollout, from_dict, to_dict  # noqa: E402
from tests import backend_support as support  # noqa: E402
from tests import factories  # noqa: E402
from transforms.core.io import read_parquet_rows  # noqa: E402
from transforms.models.backends.fake import FakeBackend  # noqa: E402
from transforms.sample import handler as sample_handler  # noqa: E402
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.handler import generate_for_problems, make_rollouts  # noqa: E402
from transforms.sample.journal import list_journal  # noqa: E402
from transforms.sample.transform import EmitRollouts, GenerateRollouts, failed_batch_dead_letters  # noqa: E402

SEED = 1234
HASH = "cfghash"


def test_failed_batch_becomes_dead_letters():
    batch = [factories.problem(source_id="a"), factories.problem(source_id="b")]
    failed = (batch, (RuntimeError, "RuntimeError('boom')", ["Traceback...\n", "RuntimeError: boom\n"]))
    dead = failed_batch_dead_letters(failed, HASH)
    assert [d.record_id for d in dead] == [p.problem_id for p in batch]
    assert all((d.stage, d.step, d.config_hash) == ("sample", "generate", HASH) for d in dead)
    assert all(d.error.startswith("RuntimeError('boom')") and "Traceback" in d.error for d in dead)


def test_emit_rule_keeps_rollouts_or_dead_letters_the_problem():
    problem = factories.problem(prompt="What is 2 + 2?")
    [generated] = generate_for_problems(FakeBackend(FAKE), [problem], FAKE, SEED)
    rollouts = make_rollouts(generated, FAKE, SEED, HASH)
    emit = EmitRollouts(HASH)
    assert emit(sample_handler.Outcome(problem, rollouts, None, 1, 30)) == rollouts
    dead = emit(sample_handler.Outcome(problem, [], "render: boom", 0, 0))
    assert isinstance(dead, DeadLetter)
    assert (dead.record_id, dead.stage, dead.step, dead.error, dead.config_hash) == (
        problem.problem_id, "sample", "generate", "render: boom", HASH)


# -- pipeline (fake backend) -----------------------------------------------------------

FAKE = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, batch_size=2)


def _problems():
    good = [factories.problem(source_id=str(i), prompt=f"What is {i} + {i + 1}?") for i in range(4)]
    bad = factories.problem(source_id="bad", prompt="Please FAIL here")
    return good, bad


def _expected_rollouts(config, problems):
    generated = generate_for_problems(FakeBackend(config), problems, config, SEED)
    return [r for g in generated for r in make_rollouts(g, config, SEED, HASH)]


def _run_pipeline(config, problems, options=None):
    pipeline = BeamPipeline(options=options) if options else BeamPipeline()
    out = pipeline | beam.Create(problems) | GenerateRollouts(config, SEED, HASH)
    return pipeline, out


def test_pipeline_generates_n_rollouts_and_dead_letters_failures():
    good, bad = _problems()
    pipeline, out = _run_pipeline(FAKE, good[:2] + [bad] + good[2:])
    assert_that(out.kept, equal_to(_expected_rollouts(FAKE, good)), label="Kept")
    per_problem = out.kept | beam.Map(lambda r: (r.problem_id, 1)) | beam.CombinePerKey(sum)
    assert_that(per_problem, equal_to([(p.problem_id, 3) for p in good]), label="NPerProblem")
    ids = out.kept | beam.Map(lambda r: r.rollout_id) | beam.Distinct() | beam.combiners.Count.Globally()
    assert_that(ids, equal_to([3 * len(good)]), label="UniqueIds")
    dead = out.dead | beam.Map(lambda d: (type(d), d.record_id, d.stage, d.step, d.config_hash,
                                          "FAIL" in d.error, "Please FAIL here" in d.payload))
    assert_that(dead, equal_to([(DeadLetter, bad.problem_id, "sample", "generate", HASH, True, True)]),
                label="Dead")
    assert_that(out.rejected, equal_to([]), label="Rejected")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("sample"))["counters"]
    values = {c.key.metric.name: c.committed for c in counters}
    tokens = sum(r.completion_tokens for r in _expected_rollouts(FAKE, good))
    assert {k: values.get(k) for k in ("prompts_done", "rollouts_done", "completion_tokens",
                                       "prompts_failed")} == {
        "prompts_done": 4, "rollouts_done": 12, "completion_tokens": tokens, "prompts_failed": 1}
    assert values.get("generate.dead") == 1  # RuleStep counts the dead letter of its step


def test_pipeline_dead_letters_a_batch_that_fails_unexpectedly(monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(sample_handler, "generate_for_problems", broken)
    good, _ = _problems()
    pipeline, out = _run_pipeline(FAKE, good)
    dead = out.dead | beam.Map(lambda d: (d.record_id, d.stage, d.step, d.error.split("\n")[0]))
    assert_that(dead, equal_to([(p.problem_id, "sample", "generate", "MemoryError('out of memory')")
                                for p in good]), label="AllDead")
    assert_that(out.kept, equal_to([]), label="NoneKept")
    pipeline.run().wait_until_finish()


def test_pipeline_reports_length_rows():
    config = dataclasses.replace(FAKE, fake_length_rate=0.5)
    good, _ = _problems()
    pipeline, out = _run_pipeline(config, good)
    cut = out.kept | beam.Filter(lambda r: r.finish_reason == "length") | beam.Map(lambda r: r.answer)
    assert_that(cut, is_not_empty(), label="SomeCut")
    assert_that(cut | beam.Distinct(), equal_to([""]), label="CutHaveNoAnswer")
    pipeline.run().wait_until_finish()


@pytest.mark.parametrize("batch_size, share, flags", [
    (1, False, []),
    (4, True, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]),
], ids=["batch1_in_process", "batch4_multi_processing_one_shared_model"])
def test_pipeline_output_does_not_depend_on_batching_or_runner(batch_size, share, flags):
    good, _ = _problems()
    config = dataclasses.replace(FAKE, batch_size=batch_size, share_model=share)
    options = PipelineOptions(["--runner=DirectRunner", *flags])
    pipeline, out = _run_pipeline(config, good, options)
    assert_that(out.kept, equal_to(_expected_rollouts(FAKE, good)))
    pipeline.run().wait_until_finish()


# -- the real model (slow) -------------------------------------------------------------

REAL = SampleConfig(model="smollm2", n=2, max_tokens=48, temperature=0.7, top_p=0.95, torch_threads=1)


PROMPTS = ["What is 12 + 30?", "What is 7 + 5?", "Name a prime number between 10 and 20."]


@pytest.fixture(scope="module")
def smollm2():
    return support.load_smollm2(REAL)


def _append_json(record, path):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(to_dict(record)) + "\n")


@pytest.mark.slow
def test_real_model_through_beam_from_the_converted_directory(smollm2, tmp_path):
    """The pipeline, loading the HF directory converted from the GGUF, samples
    exactly what the GGUF-loaded backend samples alone."""
    config = dataclasses.replace(REAL, model=support.converted_model(), max_tokens=16, batch_size=2)
    problems = [factories.problem(source_id=str(i), prompt=p) for i, p in enumerate(PROMPTS[:2])]
    rows = tmp_path / "rollouts.jsonl"
    pipeline, out = _run_pipeline(config, problems)
    summary = out.kept | beam.Map(
        lambda r: (r.problem_id, r.sample_index, r.backend, 1 <= r.completion_tokens <= 16))
    assert_that(summary, equal_to(
        [(p.problem_id, i, "transformers", True) for p in problems for i in range(2)]))
    assert_that(out.dead, equal_to([]), label="NoDead")
    _ = out.kept | beam.Map(_append_json, str(rows))
    pipeline.run().wait_until_finish()
    piped = {(r["problem_id"], r["sample_index"]): r["completion"]
             for r in map(json.loads, rows.read_text().splitlines())}
    gguf = support.with_config(smollm2, max_tokens=16)
    for generated in generate_for_problems(gguf, problems, gguf.config, SEED):
        for index, sample in zip(generated.indices, generated.result.samples):
            assert piped[(generated.problem.problem_id, index)] == sample.text


# -- resume from the journal -----------------------------------------------------------

def _resume_pipeline(config, problems, journal, completed_rows, flags=()):
    pipeline = BeamPipeline(options=PipelineOptions(["--runner=DirectRunner", *flags]))
    completed = pipeline | "Done" >> beam.Create(completed_rows).with_output_types(Rollout)
    out = (pipeline | beam.Create(problems)
           | GenerateRollouts(config, SEED, HASH, completed=completed, journal_dir=journal))
    return pipeline, out


@pytest.mark.parametrize("flags", [(), ("--direct_running_mode=multi_processing", "--direct_num_workers=2")],
                         ids=["in_process", "multi_processing"])
def test_pipeline_persists_then_resumes_without_asking_the_model(tmp_path, flags):
    log = tmp_path / "asked.jsonl"
    config = dataclasses.replace(FAKE, fake_request_log=str(log))
    good, _ = _problems()
    expected = _expected_rollouts(FAKE, good)
    journal = str(tmp_path / "journal")
    # run 1 (in process) had done half of the problems and persisted them
    pipeline, out = _resume_pipeline(config, good[:2], journal, [])
    pipeline.run().wait_until_finish()
    persisted = [from_dict(Rollout, row) for path in list_journal(journal) for row in read_parquet_rows(path)]
    assert sorted(r.rollout_id for r in persisted) == sorted(
        r.rollout_id for r in expected if r.problem_id in {p.problem_id for p in good[:2]})
    asked_first = log.read_text().splitlines()
    # run 2 (in process, or on two worker processes): every problem, in another
    # order, with what run 1 persisted
    pipeline, out = _resume_pipeline(config, good[::-1], journal, persisted, flags)
    assert_that(out.kept, equal_to(expected))
    result = pipeline.run()
    result.wait_until_finish()
    asked_second = log.read_text().splitlines()[len(asked_first):]
    assert len(asked_first) == len(asked_second) == 6  # 2 problems x n=3 each time, never twice
    assert not set(asked_first) & set(asked_second)
    counters = result.metrics().query(MetricsFilter().with_name("rollouts_reused"))["counters"]
    assert sum(c.committed for c in counters) == 6
