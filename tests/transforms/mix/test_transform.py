"""Mix: quotas per bucket (kind, journey part, quota group), per-prompt cap, deterministic
selection, shortfalls, the example format, and the mix stage's manifest."""
import json
import os

import apache_beam as beam
import pytest

from pipelines.config import ConfigError, load_config
from schemas.records import SCHEMA_VERSION, DeadLetter, Rejection, VerifiedRollout, to_dict
from tests.factories import verified
from transforms.core import io as rio
from publish.accounting import AccountingError
from transforms.core import make_rejection
from transforms.mix.examples import assistant_content, is_row_of, to_example
from transforms.mix.journey import JourneyConfig
from transforms.mix.knowledge import KnowledgeConfig, is_trivial, knowledge_reasoning
from transforms.mix.transform import (MixConfig, MixExamples, apportion, bucket_key, bucket_report, bucket_targets,
                            rejected_example)
from transforms.sample.transform import FewShot, SampleConfig, build_messages, split_completion


def _pool(n_reasoning, n_knowledge, per_problem=1, domains=("math",)):
    out = []
    for i in range(n_reasoning):
        out.append(verified(i % per_problem, source_id=f"r{i // per_problem}", completion=f"r{i}",
                            domain=domains[i % len(domains)]))
    for i in range(n_knowledge):
        out.append(verified(0, source_id=f"k{i}", kind="knowledge", domain="knowledge",
                            completion=f"k{i}"))
    return out


def _journeys(n, domains=("math", "code")):
    """n journey examples (one per problem, as the journey step builds them)."""
    return [to_example(verified(0, source_id=f"j{i}", completion=f"j{i}", domain=domains[i % len(domains)]))._replace(
        journey="splice:step", example_id=f"journey-{i}") for i in range(n)]


def _run(records, config, tmp_path, seed=1, journeys=None):
    """Run MixExamples; return (sorted selected (id, journey), sorted (rejected id, reason))."""
    tag = f"{seed}-{len(records)}-{len(journeys or [])}"
    out = {name: str(tmp_path / f"{name}-{tag}.json") for name in ("sel", "rej")}

    def dump(values, path):
        with open(path, "w") as fh:
            json.dump(sorted(values), fh)

    with beam.Pipeline() as p:
        inputs = p | "Curated" >> beam.Create(records)
        if journeys is not None:
            inputs = {"curated": inputs, "journeys": p | "Journeys" >> beam.Create(journeys)}
        mixed = inputs | MixExamples(config, seed)
        (mixed.kept | "Sel" >> beam.Map(lambda e: (e.example_id, e.journey or "")) | "L1" >> beam.combiners.ToList()
         | "S" >> beam.Map(dump, out["sel"]))
        (mixed.rejected | "Rej" >> beam.Map(lambda r: (r.record_id, r.reason))
         | "L2" >> beam.combiners.ToList() | "R" >> beam.Map(dump, out["rej"]))
    return tuple(json.load(open(out[k])) for k in ("sel", "rej"))


# -- rules ----------------------------------------------------------------------


def test_targets_scale():
    assert MixConfig(scale=1 / 1000).targets() == {"reasoning": 600, "knowledge": 200}


@pytest.mark.parametrize("total, shares, expected", [
    (10, {"a": 0.5, "b": 0.5}, {"a": 5, "b": 5}),
    (7, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, {"a": 3, "b": 2, "c": 2}),  # ties: by name
    (10, {"journey": 0.25, "direct": 0.75}, {"journey": 2, "direct": 8}),  # 2.5 vs 7.5: tie by name
    (1, {"journey": 0.1, "direct": 0.9}, {"journey": 0, "direct": 1}),
    (600, {"math": 0.64, "code": 0.34, "stem": 0.01, "logic": 0.01},
     {"math": 384, "code": 204, "stem": 6, "logic": 6}),
    (0, {"a": 1.0}, {"a": 0}),
])
def test_apportion_adds_up_by_largest_remainder(total, shares, expected):
    assert apportion(total, shares) == expected
    assert sum(apportion(total, shares).values()) == total


def test_bucket_targets_add_up_to_each_kind():
    config = MixConfig(scale=1 / 1000, journey=JourneyConfig(share=0.1), quota_field="domain",
                       quotas={"reasoning": {"math": 0.64, "code": 0.34, "stem": 0.01, "logic": 0.01}})
    targets = bucket_targets(config)
    assert sum(n for b, n in targets.items() if b.startswith("reasoning/")) == 600
    assert sum(n for b, n in targets.items() if b.startswith("reasoning/journey/")) == 60
    assert targets["knowledge/direct/*"] == 200
    assert bucket_targets(MixConfig(scale=1 / 1000)) == {"reasoning/direct/*": 600, "knowledge/direct/*": 200}


QUOTAS = MixConfig(quota_field="domain", quotas={"reasoning": {"math": 0.5, "code": 0.5},
                                                 "knowledge": {"stem": 0.2, "*": 0.8}})


@pytest.mark.parametrize("kind, journey, value, expected", [
    ("reasoning", None, "math", "reasoning/direct/math"),
    ("reasoning", "splice:step", "code", "reasoning/journey/code"),
    ("reasoning", None, "logic", None),  # no share for logic, no catch-all
    ("reasoning", None, None, None),
    ("knowledge", None, "stem", "knowledge/direct/stem"),
    ("knowledge", None, "history", "knowledge/direct/*"),  # the catch-all
    ("knowledge", None, "*", "knowledge/direct/*"),
])
def test_bucket_key(kind, journey, value, expected):
    assert bucket_key(kind, journey, value, QUOTAS) == expected


@pytest.mark.parametrize("kwargs, message", [
    ({"quotas": {"reasoning": {"math": 0.5}}, "quota_field": "domain"}, "add up to 1"),
    ({"quotas": {"reasoning": {"math": 1.0}}}, "quota_field"),
    ({"quotas": {"chitchat": {"math": 1.0}}, "quota_field": "domain"}, "unknown kind"),
    ({"quotas": {"reasoning": {"math": 1.2, "code": -0.2}}, "quota_field": "domain"}, ">= 0"),
    ({"scale": 0}, "scale"),
])
def test_bad_mix_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixConfig(**kwargs)


def test_quotas_load_from_yaml_frozen_and_hashable(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mix:\n  quota_field: domain\n  quotas: {reasoning: {math: 0.6, code: 0.4}}\n"
                    "  journey: {share: 0.2, modes: [splice, reflect]}\n"
                    "  knowledge_format: {cot: short, max_cot_words: 20}\n")
    config = load_config(str(path))
    assert config.mix.shares("reasoning") == {"code": 0.4, "math": 0.6}
    assert config.mix.journey.modes == ("splice", "reflect")
    assert config.mix.knowledge_format.cot == "short"
    hash(config.mix)
    assert config.config_hash == load_config(str(path)).config_hash
    path.write_text("mix: {quota_field: domain, quotas: {reasoning: {math: 0.6}}}\n")
    with pytest.raises(ConfigError, match="add up to 1"):
        load_config(str(path))


def test_bucket_report_supply_selected_shortfall():
    config = MixConfig(reasoning=4, knowledge=2, journey=JourneyConfig(share=0.5))
    report = bucket_report(["reasoning/direct/*"] * 2 + ["reasoning/journey/*"],
                           ["reasoning/direct/*"] * 3, config)
    assert report == {
        "knowledge/direct/*": {"target": 2, "supply": 0, "selected": 0, "shortfall": 2},
        "reasoning/direct/*": {"target": 2, "supply": 5, "selected": 2, "shortfall": 0},
        "reasoning/journey/*": {"target": 2, "supply": 1, "selected": 1, "shortfall": 1},
    }


# -- the example format -------------------------------------------------------------


def test_example_format():
    ex = to_example(verified())
    assert [m.role for m in ex.messages] == ["user", "assistant"]
    assert ex.messages[1].content.startswith("<think>\n2 + 3 = 5.\n</think>\n\n")
    assert ex.rollout_ids == [verified().rollout_id]
    assert ex.journey is None
    assert assistant_content("", "Paris.") == "Paris."


@pytest.mark.parametrize("prompt, trivial", [
    ("Hello!", True), ("hi there", True), ("Thank you so much!", True), ("How are you?", True),
    ("Hello, can you explain how vaccines train the immune system in detail?", False),
    ("What is the capital of France?", False), ("Hierarchy of needs?", False), ("", False),
])
def test_trivial_prompts(prompt, trivial):
    assert is_trivial(prompt) is trivial


@pytest.mark.parametrize("cot, prompt, reasoning, kept", [
    ("none", "What is the capital of France?", "France's capital is Paris.", ""),
    ("full", "What is the capital of France?", "France's capital is Paris.", "France's capital is Paris."),
    ("short", "What is the capital of France?", "France's capital is Paris.", "France's capital is Paris."),
    ("short", "What is the capital of France?", "word " * 30, ""),  # too long: dropped, not cut
    ("full", "Hello!", "The user greets me.", ""),  # trivial: never a CoT
])
def test_knowledge_reasoning(cot, prompt, reasoning, kept):
    assert knowledge_reasoning(prompt, reasoning, KnowledgeConfig(cot=cot, max_cot_words=20)) == kept.strip()


def test_knowledge_examples_answer_without_thinking():
    record = verified(kind="knowledge", domain="knowledge", prompt="What is the capital of France?",
                      reasoning="The capital of France is Paris.", answer="Paris.")
    assert to_example(record).messages[1].content == "Paris."
    full = to_example(record, KnowledgeConfig(cot="full"))
    assert full.messages[1].content == "<think>\nThe capital of France is Paris.\n</think>\n\nParis."
    # the teacher is asked in non-thinking mode: the knowledge template, no reasoning few-shots
    config = SampleConfig(few_shot=(FewShot("What is 1 + 1?", "\\boxed{2}"),))
    assert build_messages("What is the capital of France?", config, "knowledge") == [
        {"role": "user", "content": "What is the capital of France?"}]
    assert len(build_messages("What is 2 + 2?", config, "reasoning")) == 3
    assert split_completion("Paris.", "knowledge") == ("", "Paris.")
    assert split_completion("Paris.", "reasoning") == ("Paris.", "")


def test_rejections_are_recognised_by_their_fields():
    ex = to_example(verified())
    rejection = to_dict(make_rejection(ex, "mix", "select_quota", "over_quota"))
    assert rejected_example(rejection)["example_id"] == ex.example_id
    assert rejected_example(dict(rejection, record_type="BeamSchema_1234")) is not None
    other = to_dict(make_rejection(verified(), "curate", "filter_verdict", "incorrect"))
    assert rejected_example(other) is None
    assert is_row_of(VerifiedRollout, json.loads(other["payload"]))


# -- the transform ----------------------------------------------------------------


def test_default_quotas_scaled_by_1_in_1000_are_hit_exactly_and_deterministically(tmp_path):
    pool = _pool(650, 230)
    config = MixConfig(scale=1 / 1000)
    sel1, rej1 = _run(pool, config, tmp_path)
    sel2, rej2 = _run(list(reversed(pool)), config, tmp_path / ".." / tmp_path.name)
    assert sel1 == sel2 and rej1 == rej2
    by_id = {to_example(r).example_id: r.kind for r in pool}
    kinds = [by_id[i] for i, _ in sel1]
    assert kinds.count("reasoning") == 600 and kinds.count("knowledge") == 200
    assert len(sel1) + len(rej1) == len(pool)  # every candidate selected or rejected
    assert {reason for _, reason in rej1} == {"over_quota"}


def test_seed_changes_the_selection(tmp_path):
    pool = _pool(30, 12)
    config = MixConfig(reasoning=20, knowledge=5)
    sel1, _ = _run(pool, config, tmp_path)
    sel3, _ = _run(pool, config, tmp_path, seed=2)
    assert len(sel1) == len(sel3) == 25 and sel3 != sel1


def test_short_supply_takes_everything_and_zero_target_takes_nothing(tmp_path):
    sel, rej = _run(_pool(3, 4), MixConfig(reasoning=10, knowledge=0), tmp_path)
    assert len(sel) == 3 and len(rej) == 4


def test_per_prompt_cap(tmp_path):
    pool = _pool(12, 0, per_problem=4)  # 3 problems x 4 samples
    sel, rej = _run(pool, MixConfig(reasoning=100, knowledge=0, per_prompt_cap=2), tmp_path)
    assert len(sel) == 6
    assert [reason for _, reason in rej] == ["per_prompt_cap"] * 6


def test_domain_quotas_and_journey_share(tmp_path):
    pool = _pool(40, 0, domains=("math", "code", "logic"))
    config = MixConfig(reasoning=10, knowledge=0, quota_field="domain",
                       quotas={"reasoning": {"math": 0.5, "code": 0.5}}, journey=JourneyConfig(share=0.2))
    sel, rej = _run(pool, config, tmp_path, journeys=_journeys(5))
    domains = {to_example(r).example_id: r.domain for r in pool}
    direct = [domains[i] for i, journey in sel if not journey]
    assert sorted(direct) == ["code"] * 4 + ["math"] * 4
    assert [j for _, j in sel if j] == ["splice:step"] * 2
    reasons = [reason for _, reason in rej]
    assert reasons.count("no_quota") == sum(d == "logic" for d in domains.values())
    assert len(sel) + len(rej) == len(pool) + 5


# -- the stage ------------------------------------------------------------------------


def write_curate_stage(folder, curated, rejections):
    """A finished curate stage in ``folder`` (shards and manifest) holding the given records."""
    os.makedirs(folder, exist_ok=True)
    outputs = {}
    for name, cls, records in (("curated", VerifiedRollout, curated), ("rejections", Rejection, rejections),
                               ("dead_letters", DeadLetter, [])):
        files = []
        if records:
            entry = rio.write_table(rio.shard_path(os.path.join(folder, name), 0, 1),
                                    [to_dict(r) for r in records], cls)
            files.append(dict(entry, path=os.path.basename(entry["path"])))
        outputs[name] = {"files": files, "rows": len(records)}
    reasons = {}
    for r in rejections:
        key = f"{r.stage}/{r.step}/{r.reason}"
        reasons[key] = reasons.get(key, 0) + 1
    total = len(curated) + len(rejections)
    manifest = {"stage": "curate", "schema_version": SCHEMA_VERSION, "outputs": outputs,
                "funnel": {"rejected": reasons, "dead_letters": {}},
                "accounting": {"curate": {"in": total, "kept": len(curated), "rejected": len(rejections),
                                          "dead": 0}}}
    rio.write_json(os.path.join(folder, rio.MANIFEST), manifest)
    return str(folder)


def wrong_rollouts(n, source_id="r0"):
    """Rejections of n wrong rollouts of one problem (as the curate verdict filter writes them)."""
    return [make_rejection(verified(i, source_id=source_id, completion=f"wrong {i}", reasoning="2 + 3 = 6.",
                                    answer="The answer is \\boxed{6}.", extracted_answer="6",
                                    verdict="incorrect"), "curate", "filter_verdict", "incorrect")
            for i in range(n)]


def _stage_config(tmp_path, text):
    path = tmp_path / "mix.yaml"
    path.write_text(text)
    return load_config(str(path))


def test_stage_reports_each_shortfall_and_balances(tmp_path):
    from pipelines import mix

    curated = _pool(5, 1)
    curate_dir = write_curate_stage(tmp_path / "curate", curated, wrong_rollouts(2))
    config = _stage_config(tmp_path, "mix: {reasoning: 8, knowledge: 3, journey: {share: 0.25, locate: false}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert manifest["targets"] == {"reasoning": 8, "knowledge": 3}
    assert manifest["shortfall"] == {"reasoning": 1, "knowledge": 2}
    assert manifest["buckets"]["reasoning/direct/*"] == {"target": 6, "supply": 5, "selected": 5, "shortfall": 1}
    assert manifest["buckets"]["reasoning/journey/*"] == {"target": 2, "supply": 2, "selected": 2, "shortfall": 0}
    assert manifest["accounting"]["journey"] == {"in": 2, "built": 2, "rejected": 0, "dead": 0}
    assert manifest["accounting"]["mix"] == {"in": 8, "selected": 8, "rejected": 0, "dead": 0}
    assert manifest["counts"]["by_journey"] == {"direct": 6, "splice:attempt": 2}
    assert os.path.exists(tmp_path / "out" / "README.md")
    # the journey step's input count comes from the pipeline, not from re-reading the rejections
    assert json.load(open(tmp_path / "out" / mix.JOURNEY_INPUTS)) == {"wrong_attempts": 2}
    with pytest.raises(AccountingError, match="did not count its wrong attempts"):
        mix.journey_inputs(str(tmp_path / "nowhere.json"))


@pytest.mark.slow
def test_stage_output_is_the_same_on_the_multi_processing_runner(tmp_path):
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(5, 1), wrong_rollouts(2))
    config = _stage_config(tmp_path, "sample: {backend: fake}\n"
                                     "mix: {reasoning: 5, knowledge: 1, journey: {share: 0.4, modes: [splice, reflect]}}\n")
    runs = {}
    for name, args in (("memory", []), ("multi", ["--direct_running_mode=multi_processing",
                                                  "--direct_num_workers=2"])):
        manifest = mix.run(config, curate_dir, str(tmp_path / name), args)
        runs[name] = ([f["sha256"] for f in manifest["outputs"]["data/train"]["files"]],
                      open(tmp_path / name / "README.md").read(), manifest["accounting"])
    assert runs["memory"] == runs["multi"]
    assert runs["memory"][2]["journey"]["in"] == 2


def test_stage_without_journeys_reads_no_rejections(tmp_path):
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(3, 0), wrong_rollouts(2))
    config = _stage_config(tmp_path, "mix: {reasoning: 3, knowledge: 0}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert "journey" not in manifest["accounting"]
    assert manifest["accounting"]["mix"] == {"in": 3, "selected": 3, "rejected": 0, "dead": 0}
    assert manifest["shortfall"] == {}
