"""Sample stage: prompt/id/seed rules, the Gumbel sampler, the fake backend through
Beam, and (slow) the real SmolLM2 model."""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
import time

os.environ["HF_HUB_OFFLINE"] = "1"

import apache_beam as beam  # noqa: E402
import pytest  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to, is_not_empty  # noqa: E402

from schemas.records import SCHEMA_VERSION, DeadLetter, Rollout, to_dict  # noqa: E402
from tests import factories  # noqa: E402
from transforms.core import derive_seed  # noqa: E402
from transforms.sample import transform as sample_module  # noqa: E402
from transforms.models.backends.base import cut_at_stop  # noqa: E402
from transforms.models.backends.hf import tokens_until  # noqa: E402
from transforms.text.extract import boxed_contents, split_reasoning  # noqa: E402
from transforms.sample.transform import (  # noqa: E402
    R1_USER_TEMPLATE,
    SMOLLM2_FILE,
    BackendNotImplemented,
    FakeBackend,
    GenerationResult,
    OpenAIBackend,
    SampleTask,
    VLLMBackend,
    FewShot,
    GenerateRollouts,
    GenerationRequest,
    GumbelSampler,
    SampleConfig,
    SampleModelHandler,
    TransformersBackend,
    build_messages,
    check_backend,
    failed_batch_dead_letters,
    finish_sample,
    generate_for_problems,
    generate_isolated,
    list_journal,
    make_backend,
    make_rollouts,
    model_key,
    persist_chunk,
    prepare,
    tasks_from_join,
    resolve_model,
    rollout_id,
    sample_seed,
    sampling_params,
    top_k_mask,
    top_p_mask,
)

SEED = 1234
HASH = "cfghash"
R1_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


# -- config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"user_template": "{question}"}, "must contain {prompt}"),
        ({"user_template": "{prompt} {other}"}, "only {prompt} may be substituted"),
        ({"fake_length_rate": 1.5}, "fake_length_rate"),
        ({"dtype": "float64"}, "dtype"),
        ({"torch_threads": 0}, "torch_threads"),
        ({"top_p": 0.0}, "top_p"),
        ({"backend": "llamacpp"}, "backend"),
        ({"top_k": -1}, "top_k"),
        ({"stop": ("",)}, "stop"),
        ({"tensor_parallel_size": 0}, "tensor_parallel_size"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"backend": "openai"}, "base_url: required"),
        ({"backend": "openai", "base_url": "http://h/v1", "concurrency": 0}, "concurrency"),
    ],
)
def test_config_rejects(changes, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        SampleConfig(**changes)


@pytest.mark.parametrize("backend, cls", [("transformers", TransformersBackend), ("vllm", VLLMBackend),
                                          ("openai", OpenAIBackend), ("fake", FakeBackend)])
def test_every_configurable_backend_is_implemented(backend, cls):
    config = SampleConfig(backend=backend, base_url="http://127.0.0.1:1/v1")
    check_backend(config)
    assert type(make_backend(config)) is cls
    GenerateRollouts(config, SEED, HASH)  # builds without loading anything


def test_check_backend_refuses_an_unknown_backend_by_name():
    config = SampleConfig()
    object.__setattr__(config, "backend", "llamacpp")  # past the config's own check
    with pytest.raises(BackendNotImplemented, match="'llamacpp' is not implemented"):
        check_backend(config)


# -- prompts, ids and seeds ---------------------------------------------------------


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, [("user", "What is 2 + 3?" + R1_SUFFIX)]),
        ({"system_prompt": "Be brief."}, [("system", "Be brief."), ("user", "What is 2 + 3?" + R1_SUFFIX)]),
        (
            {"few_shot": (FewShot("Q1", "A1"), FewShot("Q2", "A2"))},
            [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2"),
             ("user", "What is 2 + 3?" + R1_SUFFIX)],
        ),
        (
            {"system_prompt": "S", "few_shot": (FewShot("Q", "A"),), "user_template": "Q: {prompt}\nA:"},
            [("system", "S"), ("user", "Q"), ("assistant", "A"), ("user", "Q: What is 2 + 3?\nA:")],
        ),
        ({"user_template": "{prompt} {{braces}}"}, [("user", "What is 2 + 3? {braces}")]),
    ],
)
def test_build_messages(changes, expected):
    messages = build_messages("What is 2 + 3?", SampleConfig(**changes))
    assert [(m["role"], m["content"]) for m in messages] == expected


def test_default_template_is_r1():
    assert R1_USER_TEMPLATE.format(prompt="P") == "P" + R1_SUFFIX


BASE_ID_ARGS = dict(problem_id="p1", prompt_text="<prompt>", model="fake:m",
                    sampling_params={"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": 1},
                    sample_index=0)


@pytest.mark.parametrize(
    "changes",
    [
        {"problem_id": "p2"},
        {"prompt_text": "<prompt> "},
        {"model": "fake:m@rev"},
        {"sampling_params": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 64, "seed": 1}},
        {"sampling_params": {"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": 2}},
        {"sample_index": 1},
    ],
)
def test_rollout_id_changes_with_every_input(changes):
    base = rollout_id(**BASE_ID_ARGS)
    assert rollout_id(**{**BASE_ID_ARGS, **changes}) != base


def test_rollout_id_is_stable_and_order_free():
    reordered = dict(reversed(list(BASE_ID_ARGS["sampling_params"].items())))
    first = rollout_id(**BASE_ID_ARGS)
    assert first == rollout_id(**{**BASE_ID_ARGS, "sampling_params": reordered})
    assert len(first) == 16 and int(first, 16) >= 0


@pytest.mark.parametrize(
    "changes, extra",
    [
        ({}, {}),
        ({"n": 9, "batch_size": 3, "concurrency": 2}, {}),  # how much and how, not what
        ({"top_k": 20}, {"top_k": 20}),
        ({"stop": ("</answer>", "\n\n")}, {"stop": ["</answer>", "\n\n"]}),
    ],
)
def test_sampling_params_hold_what_decides_a_sample(changes, extra):
    config = SampleConfig(**{"temperature": 0.5, "top_p": 0.9, "max_tokens": 32, "n": 7, **changes})
    assert sampling_params(config, 9) == {"temperature": 0.5, "top_p": 0.9, "max_tokens": 32, "seed": 9,
                                          **extra}


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, "transformers:smollm2"),
        ({"backend": "fake", "model": "m"}, "fake:m"),
        ({"model": "org/m", "revision": "abc"}, "transformers:org/m@abc"),
        ({"model": "/models/x", "model_file": "x.gguf"}, "transformers:/models/x#x.gguf"),
    ],
)
def test_model_key(changes, expected):
    assert model_key(SampleConfig(**changes)) == expected


@pytest.mark.parametrize("config_seed, problem_id, index", [(1, "p", 0), (1234, "abc", 3), (0, "", 15)])
def test_sample_seed_is_derived(config_seed, problem_id, index):
    seed = sample_seed(config_seed, problem_id, index)
    assert seed == derive_seed(config_seed, problem_id, index)
    assert 0 <= seed < 2**31


def test_sample_seeds_differ_across_indexes_problems_and_run_seeds():
    seeds = {sample_seed(s, p, i) for s in (1, 2) for p in ("a", "b") for i in range(8)}
    assert len(seeds) == 2 * 2 * 8


# -- model resolution and decoding rules ------------------------------------------------


def test_resolve_smollm2_points_at_the_packaged_gguf():
    path, kwargs = resolve_model(SampleConfig())
    assert kwargs == {"gguf_file": SMOLLM2_FILE}
    assert os.path.isfile(os.path.join(path, SMOLLM2_FILE))


def test_resolve_local_directories_and_hub_ids(tmp_path):
    (tmp_path / "w.gguf").write_bytes(b"")
    assert resolve_model(SampleConfig(model=str(tmp_path))) == (str(tmp_path), {})
    assert resolve_model(SampleConfig(model=str(tmp_path), model_file="w.gguf")) == (
        str(tmp_path), {"gguf_file": "w.gguf"})
    with pytest.raises(FileNotFoundError, match="missing.gguf"):
        resolve_model(SampleConfig(model=str(tmp_path), model_file="missing.gguf"))
    assert resolve_model(SampleConfig(model="org/name", revision="v1")) == ("org/name", {"revision": "v1"})
    assert resolve_model(SampleConfig(model="org/name")) == ("org/name", {})


@pytest.mark.parametrize(
    "tokens, stop_ids, max_tokens, expected",
    [
        ([5, 6, 2, 2, 2], {2}, 5, ([5, 6], "stop", 3)),  # stop token counted, padding not
        ([2, 2, 2], {2}, 3, ([], "stop", 1)),
        ([5, 6, 7], {2}, 3, ([5, 6, 7], "length", 3)),
        ([5, 9, 0, 0], {2, 9}, 4, ([5], "stop", 2)),
        ([5, 6], {2}, 4, ([5, 6], "stop", 2)),  # ended early by another criterion
    ],
)
def test_finish_sample(tokens, stop_ids, max_tokens, expected):
    assert finish_sample(tokens, stop_ids, max_tokens) == expected


@pytest.mark.parametrize(
    "text, stop, expected",
    [
        ("a\n\nb", ("\n\n",), 1),
        ("x</answer>y<end>", ("<end>", "</answer>"), 1),  # the earliest wins
        ("no stop here", ("</s>",), None),
        ("anything", (), None),
    ],
)
def test_cut_at_stop(text, stop, expected):
    assert cut_at_stop(text, stop) == expected


@pytest.mark.parametrize("text_end, expected", [(1, 1), (2, 1), (3, 2), (5, 3), (8, 4)])
def test_tokens_until(text_end, expected):
    def decode(tokens):  # every token is two characters
        return "".join(chr(96 + t) * 2 for t in tokens)

    assert tokens_until([1, 2, 3, 4], text_end, decode) == expected


@pytest.mark.parametrize(
    "probs, top_p, kept",
    [
        ([0.5, 0.3, 0.2], 0.5, [True, False, False]),
        ([0.5, 0.3, 0.2], 0.6, [True, True, False]),
        ([0.2, 0.5, 0.3], 0.75, [False, True, True]),
        ([0.2, 0.5, 0.3], 1.0, [True, True, True]),
        ([0.9, 0.05, 0.05], 0.1, [True, False, False]),
    ],
)
def test_top_p_mask(probs, top_p, kept):
    import torch

    scores = torch.tensor([[math.log(p) for p in probs]], dtype=torch.float64)
    assert (~top_p_mask(scores, top_p))[0].tolist() == kept


def _draw(sampler, scores, step=0):
    import torch

    input_ids = torch.zeros((scores.shape[0], 3 + step), dtype=torch.long)
    return sampler(input_ids, scores).argmax(dim=-1).tolist()


@pytest.mark.parametrize(
    "scores, top_k, kept",
    [
        ([0.5, 3.0, 1.0, 2.0], 2, [False, True, False, True]),
        ([0.5, 3.0, 1.0, 2.0], 1, [False, True, False, False]),
        ([0.5, 3.0, 1.0, 2.0], 0, [True, True, True, True]),  # off
        ([0.5, 3.0, 1.0, 2.0], 9, [True, True, True, True]),
        ([1.0, 2.0, 2.0, 0.0], 2, [False, True, True, False]),
        ([2.0, 1.0, 1.0, 0.0], 2, [True, True, True, False]),  # a tie at the k-th score is kept
    ],
)
def test_top_k_mask(scores, top_k, kept):
    import torch

    assert (~top_k_mask(torch.tensor([scores], dtype=torch.float64), top_k))[0].tolist() == kept


def test_gumbel_sampler_applies_top_k():
    import torch

    logits = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float32))
    sampler = GumbelSampler(list(range(400)), prompt_len=3, temperature=1.0, top_p=1.0, top_k=2)
    assert set(_draw(sampler, logits.repeat(400, 1))) == {0, 1}


def test_gumbel_sampler_matches_the_tempered_distribution():
    import torch

    logits = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=torch.float32)
    temperature, draws = 0.8, 3000
    seeds = list(range(draws))
    sampler = GumbelSampler(seeds, prompt_len=3, temperature=temperature, top_p=1.0)
    counts = collections.Counter(_draw(sampler, logits.repeat(draws, 1)))
    expected = torch.softmax(logits / temperature, dim=0).tolist()
    for token, p in enumerate(expected):
        assert abs(counts[token] / draws - p) < 4 * math.sqrt(p * (1 - p) / draws) + 0.005


def test_gumbel_sampler_respects_top_p_and_rows_are_independent():
    import torch

    logits = torch.log(torch.tensor([0.6, 0.3, 0.1], dtype=torch.float32))
    seeds = list(range(500))
    sampler = GumbelSampler(seeds, prompt_len=3, temperature=1.0, top_p=0.8)
    picks = _draw(sampler, logits.repeat(len(seeds), 1))
    assert set(picks) == {0, 1}  # token 2 is outside the 0.8 nucleus
    for index in (0, 17, 499):  # a row alone draws what it drew among 500
        alone = GumbelSampler([seeds[index]], prompt_len=3, temperature=1.0, top_p=0.8)
        assert _draw(alone, logits.repeat(1, 1)) == [picks[index]]
    later = _draw(sampler, logits.repeat(len(seeds), 1), step=1)
    assert later != picks  # each step draws fresh noise


# -- fake backend ----------------------------------------------------------------------


FAKE_BASE = SampleConfig(backend="fake", model="fake-model")


def _fake(**changes):
    return FakeBackend(SampleConfig(backend="fake", model="fake-model", **changes))


def test_fake_backend_answers_sums_right_about_half_the_time():
    backend = _fake()
    prompt = backend.render(build_messages("What is 17 + 25?", backend.config))
    [result] = backend.generate([GenerationRequest(prompt, tuple(range(400)))])
    answers = [boxed_contents(s.text)[-1] for s in result.samples]
    right = sum(a == "42" for a in answers) / len(answers)
    assert 0.4 < right < 0.6
    assert all(a.lstrip("-").isdigit() for a in answers)
    assert {s.finish_reason for s in result.samples} == {"stop"}
    twice = [backend.generate([GenerationRequest(prompt, (0, 1))]) for _ in range(2)]
    assert twice[0] == twice[1]


def test_fake_backend_length_rows_and_failures():
    backend = _fake(fake_length_rate=0.5, max_tokens=64)
    [result] = backend.generate([GenerationRequest("What is 1 + 1?", tuple(range(200)))])
    cut = [s for s in result.samples if s.finish_reason == "length"]
    assert 0.35 < len(cut) / 200 < 0.65
    assert all(s.completion_tokens == 64 and "</think>" not in s.text for s in cut)
    with pytest.raises(RuntimeError, match="FAIL"):
        backend.generate([GenerationRequest("please FAIL", (1,))])


def test_generate_isolated_fails_only_the_bad_request():
    backend = _fake()
    requests = [GenerationRequest("What is 1 + 2?", (1, 2)), GenerationRequest("FAIL", (3,)),
                GenerationRequest("What is 3 + 4?", (4,))]
    outcomes = generate_isolated(backend, requests)
    assert [error for _, error in outcomes] == [None, "RuntimeError: fake backend: prompt asks to FAIL", None]
    assert outcomes[0][0] == backend.generate(requests[:1])[0]
    assert len(outcomes[2][0].samples) == 1


def test_make_rollouts_fills_every_field():
    config = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, revision="r1")
    problem = factories.problem(prompt="What is 4 + 4?", seed=1, config_hash="old")
    [generated] = generate_for_problems(_fake(n=3, max_tokens=64), [problem], config, SEED)
    rollouts = make_rollouts(generated, config, SEED, HASH)
    assert [r.sample_index for r in rollouts] == [0, 1, 2]
    assert len({r.rollout_id for r in rollouts}) == 3
    for r in rollouts:
        assert None not in (getattr(r, f) for f in Rollout._fields
                            if f not in ("reference_answer", "tests", "difficulty", "language", "metadata"))
        assert r.sample_seed == sample_seed(SEED, problem.problem_id, r.sample_index)
        assert (r.seed, r.config_hash, r.schema_version) == (SEED, HASH, SCHEMA_VERSION)
        assert (r.teacher_model, r.teacher_revision, r.backend) == ("fake-model", "r1", "fake")
        assert (r.temperature, r.top_p, r.max_tokens) == (0.7, 0.95, 64)
        assert (r.reasoning, r.answer) == split_reasoning(r.completion)
        assert r.answer.startswith("The answer is \\boxed{")
        assert (r.problem_id, r.prompt, r.reference_answer) == (problem.problem_id, problem.prompt, "5")
        assert r.prompt_tokens > 0 and r.completion_tokens > 0


def test_handler_batches_and_shares_by_config():
    handler = SampleModelHandler(dataclasses.replace(FAKE_BASE, batch_size=3), SEED)
    assert handler.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": 3}
    assert not handler.share_model_across_processes()
    shared = SampleModelHandler(dataclasses.replace(FAKE_BASE, share_model=True), SEED)
    assert shared.share_model_across_processes()


def test_failed_batch_becomes_dead_letters():
    batch = [factories.problem(source_id="a"), factories.problem(source_id="b")]
    failed = (batch, (RuntimeError, "RuntimeError('boom')", ["Traceback...\n", "RuntimeError: boom\n"]))
    dead = failed_batch_dead_letters(failed, HASH)
    assert [d.record_id for d in dead] == [p.problem_id for p in batch]
    assert all((d.stage, d.step, d.config_hash) == ("sample", "generate", HASH) for d in dead)
    assert all(d.error.startswith("RuntimeError('boom')") and "Traceback" in d.error for d in dead)


# -- pipeline (fake backend) -------------------------------------------------------------

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


def test_pipeline_dead_letters_a_batch_that_fails_unexpectedly(monkeypatch):
    def broken(*args):
        raise MemoryError("out of memory")

    monkeypatch.setattr(sample_module, "generate_for_problems", broken)
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


# -- the real model (slow) -------------------------------------------------------------------

REAL = SampleConfig(model="smollm2", n=2, max_tokens=48, temperature=0.7, top_p=0.95, torch_threads=1)
PROMPTS = ["What is 12 + 30?", "What is 7 + 5?", "Name a prime number between 10 and 20."]


@pytest.fixture(scope="module")
def smollm2():
    backend = TransformersBackend(REAL)
    started = time.perf_counter()
    backend.load()
    print(f"\nsmollm2 load: {time.perf_counter() - started:.1f} s")
    return backend


def _with_config(loaded: TransformersBackend, **changes) -> TransformersBackend:
    """A backend with another config sharing the already loaded model."""
    backend = TransformersBackend(dataclasses.replace(loaded.config, **changes))
    backend.model, backend.tokenizer = loaded.model, loaded.tokenizer
    backend.stop_ids, backend.pad_id = loaded.stop_ids, loaded.pad_id
    return backend


def _requests(backend, prompts, n):
    return [GenerationRequest(backend.render(build_messages(p, backend.config)),
                              tuple(sample_seed(SEED, p, i) for i in range(n))) for p in prompts]


@pytest.mark.slow
def test_real_model_generates_and_splits(smollm2):
    problems = [factories.problem(source_id=str(i), prompt=p) for i, p in enumerate(PROMPTS[:2])]
    started = time.perf_counter()
    generated = generate_for_problems(smollm2, problems, REAL, SEED)
    seconds = time.perf_counter() - started
    rollouts = [r for g in generated for r in make_rollouts(g, REAL, SEED, HASH)]
    tokens = sum(r.completion_tokens for r in rollouts)
    print(f"\nsmollm2: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.1f} tok/s (n=2, 1 thread)")
    assert [g.error for g in generated] == [None, None]
    assert len(rollouts) == 4
    assert "<|im_start|>assistant\n" in generated[0].prompt_text
    for r in rollouts:
        assert r.completion.strip() and "<|im_end|>" not in r.completion
        assert (r.reasoning, r.answer) == split_reasoning(r.completion)
        assert r.finish_reason in ("stop", "length")
        assert 1 <= r.completion_tokens <= 48 and r.prompt_tokens > 20
        assert (r.finish_reason == "length") == (r.completion_tokens == 48)
        assert r.backend == "transformers" and r.teacher_model == "smollm2"


@pytest.mark.slow
def test_real_model_is_deterministic_whatever_the_neighbours(smollm2):
    backend = _with_config(smollm2, max_tokens=32)
    [alone] = backend.generate(_requests(backend, PROMPTS[1:2], 2))
    _, with_neighbour = backend.generate(_requests(backend, [PROMPTS[2], PROMPTS[1]], 2))
    assert with_neighbour.samples == alone.samples
    assert alone.samples[0] != alone.samples[1]  # different seeds, different samples


@pytest.mark.slow
def test_real_model_sample_does_not_depend_on_n(smollm2):
    backend = _with_config(smollm2, max_tokens=24)
    [request] = _requests(backend, PROMPTS[:1], 4)
    [four] = backend.generate([request])
    for index in (0, 3):
        [alone] = backend.generate([GenerationRequest(request.prompt, (request.seeds[index],))])
        assert alone.samples == [four.samples[index]]


@pytest.mark.slow
def test_real_model_length_and_greedy(smollm2):
    [cut] = _with_config(smollm2, max_tokens=3).generate(_requests(smollm2, PROMPTS[:1], 2))
    assert [(s.finish_reason, s.completion_tokens) for s in cut.samples] == [("length", 3)] * 2
    greedy = _with_config(smollm2, temperature=0.0, max_tokens=12)
    [request] = _requests(greedy, PROMPTS[:1], 3)
    [result] = greedy.generate([request])
    assert len(result.samples) == 3 and len({s.text for s in result.samples}) == 1
    ids = smollm2.tokenizer(request.prompt, add_special_tokens=False, return_tensors="pt").input_ids
    reference = smollm2.model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=smollm2.pad_id)
    expected = smollm2.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)
    assert result.samples[0].text == expected
    smollm2.model.generation_config.repetition_penalty = 3.0  # a model default we must not pick up
    try:
        [again] = greedy.generate([request])
    finally:
        smollm2.model.generation_config.repetition_penalty = None
    assert again.samples[0].text == expected


@pytest.mark.slow
def test_real_model_stop_strings_end_the_sample(smollm2):
    free = _with_config(smollm2, max_tokens=24, temperature=0.0)
    [whole] = free.generate(_requests(free, PROMPTS[:1], 1))
    text = whole.samples[0].text
    stop = text[6:9]
    stopped = _with_config(smollm2, max_tokens=24, temperature=0.0, stop=(stop,))
    [cut] = stopped.generate(_requests(stopped, PROMPTS[:1], 1))
    assert cut.samples[0].text == text[:text.find(stop)]
    assert cut.samples[0].finish_reason == "stop"
    assert 1 <= cut.samples[0].completion_tokens < whole.samples[0].completion_tokens


def _append_json(record, path):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(to_dict(record)) + "\n")


@pytest.mark.slow
def test_real_model_through_beam_from_the_converted_directory(smollm2, tmp_path):
    """The pipeline, loading the HF directory converted from the GGUF, samples
    exactly what the GGUF-loaded backend samples alone."""
    from tests.backend_support import converted_model

    config = dataclasses.replace(REAL, model=converted_model(), max_tokens=16, batch_size=2)
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
    gguf = _with_config(smollm2, max_tokens=16)
    for generated in generate_for_problems(gguf, problems, gguf.config, SEED):
        for index, sample in zip(generated.indices, generated.result.samples):
            assert piped[(generated.problem.problem_id, index)] == sample.text


# -- resume: reuse persisted rollouts, generate only the missing ones ---------------------

RESUME = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, batch_size=2)


class _CountingFake(FakeBackend):
    """The fake backend, counting the samples it is asked for."""

    def __init__(self, config):
        super().__init__(config)
        self.asked = []

    def generate(self, requests):
        self.asked.extend(seed for r in requests for seed in r.seeds)
        return super().generate(requests)


def _full_rollouts(problem, config=RESUME):
    [generated] = generate_for_problems(FakeBackend(config), [problem], config, SEED)
    return make_rollouts(generated, config, SEED, HASH)


def test_prepare_reuses_expected_ids_and_ignores_stale_ones():
    problem = factories.problem(prompt="What is 2 + 2?")
    full = _full_rollouts(problem)
    stale = _full_rollouts(problem, dataclasses.replace(RESUME, temperature=0.3))[1]
    prepared = prepare(FakeBackend(RESUME), SampleTask(problem, [full[2], stale, full[0]]), RESUME, SEED)
    assert prepared.indices == (1,)
    assert prepared.seeds == (sample_seed(SEED, problem.problem_id, 1),)
    assert [r.sample_index for r in prepared.reused] == [0, 2]
    assert prepared.error is None


@pytest.mark.parametrize("done_indexes", [(), (0,), (1, 2), (0, 1, 2)])
def test_resumed_rollouts_equal_a_fresh_run_and_skip_the_model(done_indexes):
    problem = factories.problem(prompt="What is 6 + 7?")
    full = _full_rollouts(problem)
    done = [full[i]._replace(config_hash="an earlier run") for i in done_indexes]
    backend = _CountingFake(RESUME)
    [generated] = generate_for_problems(backend, [SampleTask(problem, done)], RESUME, SEED)
    assert make_rollouts(generated, RESUME, SEED, HASH) == full
    assert sorted(backend.asked) == sorted(r.sample_seed for r in full if r.sample_index not in done_indexes)


def test_tasks_from_join_deduplicates_persisted_rollouts():
    problem = factories.problem(prompt="What is 1 + 8?")
    full = _full_rollouts(problem)
    [task] = tasks_from_join((problem.problem_id, {"problems": [problem], "done": [full[1], full[0], full[1]]}))
    assert task.problem == problem
    assert [r.rollout_id for r in task.done] == sorted({full[0].rollout_id, full[1].rollout_id})
    assert list(tasks_from_join(("orphan", {"problems": [], "done": full}))) == []


def test_journal_chunks_are_named_by_their_ids(tmp_path):
    problem = factories.problem(prompt="What is 3 + 8?")
    full = _full_rollouts(problem)
    journal = str(tmp_path / "journal")
    path = persist_chunk(journal, [full[2], full[0]])
    assert path == persist_chunk(journal, [full[0], full[2]])  # a retried batch rewrites its own file
    assert persist_chunk(journal, []) is None
    (tmp_path / "journal" / "chunk-abc.parquet.tmp-123").write_bytes(b"half written")
    assert list_journal(journal) == [path]
    from transforms.core.io import read_parquet_rows
    from schemas.records import from_dict
    assert [from_dict(Rollout, row) for row in read_parquet_rows(path)] == sorted(
        [full[0], full[2]], key=lambda r: r.rollout_id)
    assert list_journal(str(tmp_path / "none")) == []


def test_a_failed_result_fails_only_its_request_without_asking_again():
    class PartlyFailing(_CountingFake):
        def generate(self, requests):
            results = super().generate(requests)
            return [GenerationResult([], 0, 0.0, "HTTP 400: bad") if "7" in r.prompt else res
                    for r, res in zip(requests, results)]

    backend = PartlyFailing(RESUME)
    requests = [GenerationRequest("What is 1 + 2?", (1, 2)), GenerationRequest("What is 7 + 1?", (3,))]
    outcomes = generate_isolated(backend, requests)
    assert [error for _, error in outcomes] == [None, "HTTP 400: bad"]
    assert backend.asked == [1, 2, 3]


def _resume_pipeline(config, problems, journal, completed_rows, flags=()):
    pipeline = BeamPipeline(options=PipelineOptions(["--runner=DirectRunner", *flags]))
    completed = pipeline | "Done" >> beam.Create(completed_rows).with_output_types(Rollout)
    out = (pipeline | beam.Create(problems)
           | GenerateRollouts(config, SEED, HASH, completed=completed, journal_dir=journal))
    return pipeline, out


@pytest.mark.parametrize("flags", [(), ("--direct_running_mode=multi_processing", "--direct_num_workers=2")],
                         ids=["in_process", "multi_processing"])
def test_pipeline_persists_then_resumes_without_asking_the_model(tmp_path, flags):
    from schemas.records import from_dict
    from transforms.core.io import read_parquet_rows

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


def test_progress_line_counts_this_workers_totals():
    from transforms.sample.transform import Outcome, Progress

    problem = factories.problem()
    full = _full_rollouts(problem)
    progress = Progress(started=100.0)
    progress.add([Outcome(problem, full, None, 1, 40), Outcome(problem, [], "boom", 0, 0)])
    progress.add([Outcome(problem, full, None, 3, 0)])
    assert progress.line(110.0) == ("sample: 3 prompts done (1 failed), 6 rollouts (4 from the journal), "
                                    "40 tokens generated, 4.0 tok/s over 10 s")
