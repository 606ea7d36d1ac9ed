"""The mix stage: it reads the curate stage's typed wrong attempts (never its rejection
payloads) and takes those its own wrong_verdicts name, reports each shortfall, balances
its accounting lines and writes the card."""
import json
import os

import pytest

from pipelines.config import load_config
from publish import accounting
from publish.accounting import AccountingError
from publish.verified import verified_row, verified_stats
from schemas.records import SCHEMA_VERSION, DeadLetter, Rejection, VerifiedRollout, to_dict
from tests.factories import verified
from tests.transforms.mix.test_transform import _pool
from transforms.core import io as rio
from transforms.core import make_rejection
from transforms.verify.attempts import WRONG_ATTEMPTS, rejected_rollout, wrong_attempt


def write_curate_stage(folder, curated, rejections):
    """A finished curate stage in ``folder`` (shards and manifest) holding the given records,
    with every wrong attempt among the rejections as the curate pipeline writes them
    (whatever mix will take), and its statistics of the verified rollouts."""
    os.makedirs(folder, exist_ok=True)
    wrong = [w for w in map(wrong_attempt, rejections) if w is not None]
    outputs = {}
    for name, cls, records in (("curated", VerifiedRollout, curated), ("rejections", Rejection, rejections),
                               ("dead_letters", DeadLetter, []), (WRONG_ATTEMPTS, VerifiedRollout, wrong)):
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
    rows = [verified_row(r) for r in curated] + [verified_row(v) for v in map(rejected_rollout, rejections) if v]
    manifest = {"stage": "curate", "schema_version": SCHEMA_VERSION, "outputs": outputs,
                "funnel": {"rejected": reasons, "dead_letters": {}},
                "accounting": {"curate": {"in": total, "kept": len(curated), "rejected": len(rejections),
                                          "dead": 0, WRONG_ATTEMPTS: len(wrong)}},
                "verified_stats": verified_stats(rows)}
    rio.write_json(os.path.join(folder, rio.MANIFEST), manifest)
    return str(folder)


#: Different wrong attempts: journeys built from the same text would be duplicates (and are rejected).
WRONG_REASONINGS = (
    "Two plus three: I count on my fingers and land on six.",
    "Adding the two numbers, three doubled is six, so 2 + 3 = 6.",
    "Start from two, step forward three times: three, four, six.",
    "The sum of the first three primes is ten, minus four is six.",
    "Two and three make a pair and a triple, which is six things in all.",
    "Column addition gives six after the carry, I believe.",
)


def wrong_rollouts(n, source_id="r0", verdict="incorrect", first=0):
    """Rejections of n wrong rollouts of one problem (as the curate verdict filter writes them),
    each with a text of its own (at most ``len(WRONG_REASONINGS)``)."""
    return [make_rejection(verified(i, source_id=source_id, completion=f"wrong {i}",
                                    reasoning=WRONG_REASONINGS[i % len(WRONG_REASONINGS)],
                                    answer="The answer is \\boxed{6}.", extracted_answer="6",
                                    verdict=verdict), "curate", "filter_verdict", verdict)
            for i in range(first, first + n)]


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
    # the journey step's input and output counts come from the pipeline, not from
    # re-reading the rejections
    assert json.load(open(tmp_path / "out" / mix.JOURNEYS_BUILT)) == {"journeys_built": 2}
    assert json.load(open(tmp_path / "out" / mix.JOURNEY_INPUTS)) == {"journey_inputs": 2}
    with pytest.raises(AccountingError, match="did not count its journeys"):
        mix.journeys_built(str(tmp_path / "nowhere.json"))
    with pytest.raises(AccountingError, match="did not count the wrong attempts its journeys took"):
        mix.journey_inputs(str(tmp_path / "nowhere.json"))


def test_supply_counts_over_quota_rejections_by_their_bucket(tmp_path):
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(9, 3, domains=("math", "code")), [])
    config = _stage_config(tmp_path, "mix: {reasoning: 4, knowledge: 1, quota_field: domain,\n"
                                     "      quotas: {reasoning: {math: 0.5, code: 0.5}, knowledge: {'*': 1.0}}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert manifest["buckets"] == {
        "knowledge/direct/*": {"target": 1, "supply": 3, "selected": 1, "shortfall": 0},
        "reasoning/direct/code": {"target": 2, "supply": 4, "selected": 2, "shortfall": 0},
        "reasoning/direct/math": {"target": 2, "supply": 5, "selected": 2, "shortfall": 0},
    }
    assert manifest["supply"] == {"reasoning": 9, "knowledge": 3}
    assert manifest["funnel"]["rejected"] == {"mix/select_quota/over_quota": 7}


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


@pytest.mark.parametrize("wrong_verdicts, taken", [
    (["incorrect"], 2),
    (["no_answer"], 1),
    (["incorrect", "no_answer"], 3),
])
def test_journeys_take_their_own_wrong_verdicts_from_what_curate_wrote(tmp_path, wrong_verdicts, taken):
    from pipelines import mix

    rejections = wrong_rollouts(2) + wrong_rollouts(1, verdict="no_answer", first=5)
    curate_dir = write_curate_stage(tmp_path / "curate", _pool(3, 0), rejections)
    config = _stage_config(tmp_path, f"mix: {{reasoning: 3, knowledge: 0, journey: {{share: 0.5, locate: false, "
                                     f"wrong_verdicts: {json.dumps(wrong_verdicts)}}}}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    line = manifest["accounting"]["journey"]
    assert line["in"] == taken == line["built"] + line["rejected"] + line["dead"]
    assert json.load(open(tmp_path / "out" / mix.JOURNEY_INPUTS)) == {"journey_inputs": taken}
    assert manifest["accounting"]["mix"]["in"] == 3 + taken
    assert accounting.verify_manifest(str(tmp_path / "out"), upstream=False)


def test_mix_alone_with_journeys_on_after_a_curate_run_with_journeys_off(tmp_path):
    """Curate writes its wrong attempts whatever the mix section says: re-running only mix
    with journeys turned on takes them."""
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(3, 0), wrong_rollouts(2))
    path = os.path.join(curate_dir, rio.MANIFEST)
    manifest = json.load(open(path))
    manifest["config"] = {"mix": {"journey": {"share": 0.0, "wrong_verdicts": ["no_answer"]}}}
    json.dump(manifest, open(path, "w"))
    config = _stage_config(tmp_path, "mix: {reasoning: 3, knowledge: 0, journey: {share: 0.5, locate: false}}\n")
    out = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert out["accounting"]["journey"] == {"in": 2, "built": 2, "rejected": 0, "dead": 0}


def test_journeys_refuse_a_curate_output_without_wrong_attempts(tmp_path):
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(3, 0), wrong_rollouts(2))
    path = os.path.join(curate_dir, rio.MANIFEST)
    manifest = json.load(open(path))
    del manifest["outputs"][WRONG_ATTEMPTS]  # a curate output from before the wrong_attempts hand-off
    json.dump(manifest, open(path, "w"))
    config = _stage_config(tmp_path, "mix: {reasoning: 3, knowledge: 0, journey: {share: 0.5}}\n")
    with pytest.raises(ValueError, match="wrote none: re-run curate"):
        mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert not os.path.exists(tmp_path / "out" / rio.MANIFEST)


def test_the_launcher_hands_journeys_the_sample_stage_teacher(tmp_path):
    """Mix never imports the sample stage: its launcher passes the teacher's ModelConfig and
    chat turns (picklable, as Beam ships them to the workers)."""
    import pickle

    from pipelines import mix
    from transforms.sample.prompts import build_messages

    config = _stage_config(tmp_path, "sample: {backend: fake, model: fake-teacher, system_prompt: Be brief.}\n"
                                     "mix: {journey: {share: 0.2, modes: [splice, reflect]}}\n")
    teacher = pickle.loads(pickle.dumps(mix.journey_teacher(config)))
    assert teacher.model == config.sample.model_config()
    assert teacher.messages("What is 2 + 3?") == build_messages("What is 2 + 3?", config.sample)
    assert teacher.messages("What is 2 + 3?")[0] == {"role": "system", "content": "Be brief."}
    no_teacher = _stage_config(tmp_path, "mix: {journey: {share: 0.2, locate: false}}\n")
    assert mix.journey_teacher(no_teacher) is None  # splice without locating asks no teacher


def test_corpus_folder_holds_the_repository_files_and_the_mix_folder(tmp_path):
    """The corpus folder is a dataset repository (card, dataset_info.json, data/, plots/,
    manifest) plus the stage's own mix/ folder; a re-run over an older layout moves the
    stage's side outputs out of it; no empty .tmp/ folder is left anywhere."""
    from pipelines import mix

    curate_dir = write_curate_stage(tmp_path / "curate", _pool(5, 1), wrong_rollouts(2))
    config = _stage_config(tmp_path, "mix: {reasoning: 3, knowledge: 1, journey: {share: 0.34, locate: false}}\n")
    out = tmp_path / "out"
    out.mkdir()
    old = ["rejections-00000-of-00001.parquet", "dead_letters-00000-of-00001.parquet", "journeys_built.json",
           "journey_inputs.json"]
    for name in old:  # where an earlier version wrote them
        (out / name).write_bytes(b"old")
    manifest = mix.run(config, curate_dir, str(out), [])
    assert sorted(os.listdir(out)) == ["README.md", "data", "dataset_info.json", "manifest.json", "mix", "plots"]
    assert sorted(os.listdir(out / "data")) == sorted(os.path.basename(f["path"])
                                                      for f in manifest["outputs"]["data/train"]["files"])
    assert set(manifest["outputs"]) == {"data/train", "mix/rejections", "mix/dead_letters"}
    rejections = manifest["outputs"]["mix/rejections"]
    assert rejections["rows"] > 0 and all(f["path"].startswith("mix/rejections-") for f in rejections["files"])
    assert sorted(os.listdir(out / "mix")) == sorted(["journey_inputs.json", "journeys_built.json"]
                                                     + [os.path.basename(f["path"]) for f in rejections["files"]])
    assert manifest["card"] == {"readme": "README.md", "dataset_info": "dataset_info.json",
                                "plots": ["plots/funnel.png", "plots/pass_rates.png", "plots/thinking_lengths.png",
                                          "plots/token_lengths.png"]}
    assert [d for d, _, _ in os.walk(out) if os.path.basename(d) == rio.TEMP_DIR] == []
    checked = accounting.verify_manifest(str(out), upstream=False)
    assert checked["mix"]["rows"]["mix/rejections"] == rejections["rows"]


def test_prune_cuts_redundant_re_checks_and_reports_the_lengths(tmp_path):
    """``mix.prune`` on: the corpus carries the cut traces (re-verified and re-filtered in
    the pipeline by the real curate verifier and filters), both lengths per example, the
    decisions as counters, and the totals in the manifest and on the card."""
    import pyarrow.parquet as pq

    from pipelines import mix
    from tests.transforms.mix.test_prune import PARAGRAPHS, apples

    curated = [apples(source_id=str(i)) for i in range(3)] + [
        apples(source_id="short", reasoning="4 + 5 = 9.", completion="<think>\n4 + 5 = 9.\n</think>\n\nTom has \\boxed{9} apples.")]
    curate_dir = write_curate_stage(tmp_path / "curate", curated, [])
    config = _stage_config(tmp_path, "mix: {reasoning: 4, knowledge: 0, prune: {enabled: true, gap: 0}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), ["--direct_running_mode=multi_processing",
                                                                    "--direct_num_workers=2"])
    rows = pq.read_table(str(tmp_path / "out" / "data")).to_pylist()
    assert len(rows) == 4
    cut = [r for r in rows if r["reasoning_tokens_after"] < r["reasoning_tokens_before"]]
    assert len(cut) == 3 and all(PARAGRAPHS[-1] not in r["messages"][-1]["content"] for r in cut)
    assert manifest["counters"]["mix.prune.pruned"] == 3 and manifest["counters"]["mix.prune.few_statements"] == 1
    thinking = manifest["thinking"]["reasoning"]
    assert thinking["examples"] == 4 and thinking["pruned"] == 3
    assert thinking["tokens_before"] == sum(r["reasoning_tokens_before"] for r in rows)
    assert thinking["tokens_after"] == sum(r["reasoning_tokens_after"] for r in rows) < thinking["tokens_before"]
    assert "## Thinking length" in (tmp_path / "out" / "README.md").read_text()
    assert manifest["thinking"]["saved"]["prune"] == thinking["tokens_before"] - thinking["tokens_after"]
    # the same curate output with prune off: nothing cut, and the config hash differs
    off = _stage_config(tmp_path, "mix: {reasoning: 4, knowledge: 0}\n")
    assert off.config_hash != config.config_hash
    plain = mix.run(off, curate_dir, str(tmp_path / "plain"), [])
    assert plain["thinking"]["reasoning"]["pruned"] == 0 and "mix.prune.pruned" not in plain["counters"]


def _lengthy_pool(problems=4, per_problem=4):
    """Correct samples of each problem whose thinking differs in length."""
    return [verified(i, source_id=f"p{p}", completion=f"p{p} s{i}", reasoning="So 2 + 3 = 5. " * (1 + (i * 7 + p) % 5))
            for p in range(problems) for i in range(per_problem)]


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["shortest", "diverse"])
def test_selection_per_prompt_is_the_same_under_shuffles_and_both_runner_modes(tmp_path, policy):
    """The kept set of a selection policy is identical whatever the order of the curated
    rows and on both DirectRunner modes; the rest are rejected naming the policy."""
    import random

    import pyarrow.parquet as pq

    from pipelines import mix

    pool = _lengthy_pool()
    config = _stage_config(tmp_path, f"mix: {{reasoning: 100, knowledge: 0, per_prompt_cap: 2,\n"
                                     f"      selection: {{policy: {policy}}}}}\n")
    kept = {}
    for name, order, args in (("memory", 0, []), ("shuffled", 1, []),
                              ("multi", 2, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])):
        rows = list(pool)
        random.Random(order).shuffle(rows)
        curate_dir = write_curate_stage(tmp_path / f"curate-{name}", rows, [])
        manifest = mix.run(config, curate_dir, str(tmp_path / name), args)
        kept[name] = sorted(r["example_id"] for r in pq.read_table(str(tmp_path / name / "data")).to_pylist())
        assert manifest["funnel"]["rejected"] == {f"mix/select_per_prompt/{policy}": 8}
    assert kept["memory"] == kept["shuffled"] == kept["multi"] and len(kept["memory"]) == 8
    if policy == "shortest":
        by_problem = {}
        for r in pool:
            by_problem.setdefault(r.source_id, []).append(len(r.reasoning))
        rows = pq.read_table(str(tmp_path / "memory" / "data")).to_pylist()
        for r in rows:  # every kept trace is among the two shortest of its problem
            assert len(r["reasoning"]) <= sorted(by_problem[r["source_id"]])[1]
        assert manifest["counters"]["mix.select_per_prompt.tokens_saved"] > 0
        assert manifest["thinking"]["saved"]["selection"] == manifest["counters"]["mix.select_per_prompt.tokens_saved"]


def test_no_cot_rows_are_marked_and_counted_in_the_manifest(tmp_path):
    """``mix.no_cot``: a problem always solved with short thinking gets one example with an
    empty ``<think>``; the row has no reasoning tokens after, and the manifest counts it."""
    import pyarrow.parquet as pq

    from pipelines import mix

    easy = [verified(i, source_id="easy", completion=f"e{i}", reasoning="2 + 3 = 5.") for i in range(2)]
    hard = [verified(i, source_id="hard", completion=f"h{i}", reasoning="Let me think. " * 40, pass_rate=0.5)
            for i in range(2)]
    curate_dir = write_curate_stage(tmp_path / "curate", easy + hard, [])
    config = _stage_config(tmp_path, "mix: {reasoning: 10, knowledge: 0,\n"
                                     "      no_cot: {enabled: true, max_thinking_tokens: 50, max_share: 0.5}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    rows = pq.read_table(str(tmp_path / "out" / "data")).to_pylist()
    no_cot = [r for r in rows if r["reasoning_tokens_after"] == 0]
    assert len(rows) == 4 and len(no_cot) == 1 and no_cot[0]["source_id"] == "easy"
    assert no_cot[0]["messages"][-1]["content"].startswith("<think>\n\n</think>\n\n")
    assert manifest["thinking"]["reasoning"]["no_cot"] == 1 and manifest["thinking"]["reasoning"]["pruned"] == 0
    assert manifest["counters"]["mix.no_cot.examples"] == 1
    saved = manifest["thinking"]["saved"]
    assert saved == {"prune": 0, "no_cot": no_cot[0]["reasoning_tokens_before"], "length_cap": 0, "selection": 0}
    by_rate = manifest["thinking"]["by_pass_rate"]
    assert by_rate["examples"][-1] == 2 and by_rate["examples"][5] == 2  # pass rates 1.0 and 0.5
    assert by_rate["mean_after"][-1] == by_rate["mean_before"][-1] / 2  # one of the two has no thinking
    card = (tmp_path / "out" / "README.md").read_text()
    assert "![thinking length by pass rate](plots/thinking_lengths.png)" in card
    assert "`mix.no_cot`: no thinking for problems always solved briefly | " + str(saved["no_cot"]) in card
    assert (tmp_path / "out" / "plots" / "thinking_lengths.png").stat().st_size > 0
    off = _stage_config(tmp_path, "mix: {reasoning: 10, knowledge: 0}\n")
    assert off.config_hash != config.config_hash


def test_length_caps_reject_long_thinking_of_easy_problems(tmp_path):
    """``mix.length_caps`` from YAML: an example over the cap of its problem's pass rate is
    rejected (step ``length_cap``), the tokens counted; harder problems keep longer thinking."""
    from pipelines import mix

    easy = [verified(i, source_id="easy", completion=f"e{i}", reasoning="Let me think. " * (5 + 20 * i))
            for i in range(2)]  # 18 and 88 tokens
    hard = [verified(i, source_id="hard", completion=f"h{i}", reasoning="Let me think. " * 40, pass_rate=0.5)
            for i in range(2)]
    curate_dir = write_curate_stage(tmp_path / "curate", easy + hard, [])
    config = _stage_config(tmp_path, "mix:\n  reasoning: 10\n  knowledge: 0\n  length_caps:\n"
                                     "    - {min_pass_rate: 0.8, max_reasoning_tokens: 50}\n"
                                     "    - {min_pass_rate: 0.4, max_reasoning_tokens: 500}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert manifest["funnel"]["rejected"] == {"mix/length_cap/over_length_cap": 1}
    assert manifest["rows"] == 3 and manifest["counters"]["mix.length_cap.tokens_rejected"] == 88
    assert manifest["thinking"]["saved"]["length_cap"] == 88
    assert manifest["accounting"]["mix"] == {"in": 4, "selected": 3, "rejected": 1, "dead": 0}


def test_planted_journeys_meet_curates_bar_or_are_rejected_with_their_reason(tmp_path):
    """A journey whose wrong prefix mixes languages, and one that duplicates another
    journey: neither reaches the corpus; each is rejected (stage mix) with curate's reason,
    and the journey balance counts them (issue #13)."""
    import pyarrow.parquet as pq

    from pipelines import mix

    mixed = "We add them. 我们先把两个数字相加然后再仔细检查一下这个结果是否正确无误 so the sum is six."
    twin = WRONG_REASONINGS[0]

    def wrong(i, source_id, reasoning):
        return make_rejection(verified(i, source_id=source_id, completion=f"wrong {i}", reasoning=reasoning,
                                       answer="The answer is \\boxed{6}.", extracted_answer="6",
                                       verdict="incorrect"), "curate", "filter_verdict", "incorrect")

    curated = _pool(2, 0)  # one correct rollout of r0 and of r1
    rejections = [wrong(1, "r0", twin), wrong(2, "r0", twin), wrong(3, "r1", mixed), wrong(4, "r1", WRONG_REASONINGS[1])]
    curate_dir = write_curate_stage(tmp_path / "curate", curated, rejections)
    config = _stage_config(tmp_path, "mix: {reasoning: 10, knowledge: 0, journey: {share: 0.5, locate: false}}\n")
    manifest = mix.run(config, curate_dir, str(tmp_path / "out"), [])
    assert manifest["accounting"]["journey"] == {"in": 4, "built": 2, "rejected": 2, "dead": 0}
    rows = [r for f in (tmp_path / "out" / "mix").glob("rejections-*.parquet") for r in pq.read_table(f).to_pylist()]
    planted = sorted((r["step"], r["reason"], r["record_type"]) for r in rows if r["step"].startswith("journey_"))
    assert planted == [("journey_dedup_exact", "duplicate", "SftExample"),
                       ("journey_filter_language", "language_mixing", "SftExample")]
    corpus = [r for f in (tmp_path / "out" / "data").glob("train-*.parquet") for r in pq.read_table(f).to_pylist()]
    journeys = [r for r in corpus if r["journey"]]
    assert len(journeys) == 2 and not any("我们" in r["reasoning"] for r in corpus)
    assert sum(twin in r["reasoning"] for r in journeys) == 1
    assert manifest["funnel"]["rejected"]["mix/journey_filter_language/language_mixing"] == 1
