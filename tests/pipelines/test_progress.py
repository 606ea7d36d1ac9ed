"""The launcher's live progress: totals before the run, the non-TTY line (done/total, rate,
ETA), at most one line per interval, reports from multi_processing workers, nothing left
behind; and every stage manifest's timing, tokens and cost."""
import glob
import json
import logging
import os

import pyarrow.parquet as pq
import pytest

from pipelines import cli, meters, progress, usage
from pipelines.config import CostConfig, Price, RunConfig, load_config
from tests.pipelines.cli_support import FAKE, write_config
from transforms.core.progress import ProgressWriter, read_progress

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
# with journeys (spliced, no teacher call), so mix shows their bar too
PRICED = (FAKE.replace("mix: {reasoning: 10, knowledge: 0}", "mix: {reasoning: 10, knowledge: 0, journey: {share: 0.5, locate: false}}")
          + "cost: {currency: EUR, teacher: {prompt_per_million: 2, completion_per_million: 10}}\n")


def _plan(price=None, log_every_s=30.0, out_dir="out"):
    found = [progress.Meter("prompts", "prompts", 24), progress.Meter("rollouts", "rollouts", 96)]
    return progress.Plan("sample", out_dir, lambda: found, price, "USD", log_every_s), found


def test_the_log_line_has_done_total_rate_and_eta():
    plan, found = _plan(Price(prompt_per_million=1.0, completion_per_million=2.0))
    rates = progress.Rates(100.0, found, ["completion_tokens"])
    rates.observe({}, 100.0)
    assert progress.format_line(plan, rates, 100.0) == (
        "sample: prompts 0/24 (0%, -/s), rollouts 0/96 (0%, -/s); - tok/s, cost 0.0000 USD; "
        "0:00:00 elapsed, ETA ?")
    rates.observe({}, 110.0)  # the model loads: rates start from the last time at zero
    rates.observe({"prompts": 12, "rollouts": 48, "prompt_tokens": 1_000_000, "completion_tokens": 600}, 130.0)
    assert progress.format_line(plan, rates, 130.0) == (
        "sample: prompts 12/24 (50%, 0.60/s), rollouts 48/96 (50%, 2.40/s); 30.0 tok/s, cost 1.0012 USD; "
        "0:00:30 elapsed, ETA 0:00:20")
    rates.observe({"prompts": 24, "rollouts": 96, "completion_tokens": 1200}, 150.0)
    assert progress.format_line(plan, rates, 170.0, "done") == (
        "sample: done: prompts 24/24 (100%, 0.60/s), rollouts 96/96 (100%, 2.40/s); 30.0 tok/s, "
        "cost 0.0024 USD; 0:01:10 elapsed, done")


def test_unknown_totals_and_prices_are_shown_as_such():
    plan = progress.Plan("mix", "out", list, Price(), "USD")
    found = [progress.Meter("examples", "examples", 10), progress.Meter("requests", "teacher requests")]
    rates = progress.Rates(0.0, found)
    rates.observe({"examples": 10, "requests": 7, "completion_tokens": 50}, 10.0)
    assert progress.format_line(plan, rates, 10.0) == (
        "mix: examples 10/10 (100%, 1.00/s), teacher requests 7 (0.70/s); 5.0 tok/s, "
        "cost unknown (no prices set); 0:00:10 elapsed, ETA 0:00:00")
    curate = progress.Plan("curate", "out", list)  # no model: no tokens, no cost
    rates = progress.Rates(0.0, [progress.Meter("verified", "verified", 8), progress.Meter("filtered", "filtered", 8)])
    rates.observe({"verified": 8, "filtered": 2}, 4.0)
    assert progress.format_line(curate, rates, 4.0) == (
        "curate: verified 8/8 (100%, 2.00/s), filtered 2/8 (25%, 0.50/s); 0:00:04 elapsed, ETA 0:00:12")


def test_a_line_at_the_start_then_at_most_every_interval_then_at_the_end(tmp_path, caplog):
    plan, found = _plan(log_every_s=30.0)
    rates = progress.Rates(0.0, found)
    display = progress._Lines(plan, rates)
    caplog.set_level(logging.INFO, logger="pipelines.progress")
    writer = ProgressWriter(str(tmp_path), "sample")
    for now, done in ((0.0, 0), (10.0, 2), (29.0, 4), (31.0, 6), (45.0, 8), (62.0, 10)):
        writer.add({"prompts": 2} if done else {})
        writer.flush()
        rates.observe(read_progress(str(tmp_path)), now)
        display.update(now)
    display.close(70.0, ok=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "pipelines.progress"]
    assert [line.split(" (")[0] for line in lines] == [
        "sample: prompts 0/24", "sample: prompts 6/24", "sample: prompts 10/24", "sample: done: prompts 10/24"]
    assert lines[1].endswith("0:00:31 elapsed, ETA 0:01:33")  # 6 in 31 s: 18 more take 93 s


def test_live_progress_sums_the_reports_and_leaves_nothing_behind(tmp_path):
    out = tmp_path / "stage"
    (out / ".tmp" / "progress").mkdir(parents=True)
    (out / ".tmp" / "progress" / "sample.1.0.json").write_text('{"counts": {"prompts": 99}}')  # a killed run's
    plan, _ = _plan(out_dir=str(out))
    live = progress.LiveProgress(plan, tty=False).start()
    for n in (3, 4):
        writer = ProgressWriter(live.folder, "sample")
        writer.add({"prompts": n, "rollouts": 4 * n})
        writer.flush()
    assert live.stop() == {"prompts": 7, "rollouts": 28}
    assert os.listdir(out) == []


def test_progress_only_for_local_runs_with_info_lines(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    assert progress.is_local(PipelineOptions([]), "out")
    assert progress.is_local(PipelineOptions(["--runner=PrismRunner"]), "out")
    assert not progress.is_local(PipelineOptions(["--runner=DataflowRunner"]), "out")
    assert not progress.is_local(PipelineOptions([]), "gs://bucket/out")
    plan, _ = _plan(out_dir=str(tmp_path))
    logging.getLogger("pipelines").setLevel(logging.WARNING)  # what --quiet sets
    try:
        assert progress.start(plan, PipelineOptions([])) is None
    finally:
        logging.getLogger("pipelines").setLevel(logging.INFO)
    live = progress.start(plan, PipelineOptions([]))
    assert live is not None and os.path.isdir(live.folder)
    live.stop()


def test_totals_come_from_the_plan_and_upstream_rows(tmp_path):
    config = load_config(write_config(tmp_path))
    assert meters.sample(config) == [progress.Meter("prompts", "prompts", 4),
                                     progress.Meter("rollouts", "rollouts", 8)]
    gsm = load_config(overrides={"sources": [{"name": "g", "path": str(tmp_path / "p.jsonl"), "limit": 3}]})
    (tmp_path / "p.jsonl").write_text('{"q": 1}\n\n{"q": 2}\n')
    assert meters.sample(gsm)[0].total == 2  # the blank line is no record
    (tmp_path / "chats.jsonl").write_text('{"instruction": "Hi", "output": "Hello"}\n' * 3)
    mixed = load_config(overrides={"sample": {"n": 4}, "sources": [
        {"name": "g", "path": str(tmp_path / "p.jsonl")},
        {"name": "a", "path": str(tmp_path / "chats.jsonl"), "preset": "alpaca", "kind": "knowledge"}]})
    assert [m.total for m in meters.sample(mixed)] == [5, 2 * 4 + 3]  # an imported row is one rollout
    assert meters.curate(96)[1] == progress.Meter("filtered", "filtered", 96)


def _manifests(out):
    return {stage: json.load(open(os.path.join(out, *(["manifest.json"] if stage == "mix" else [stage, "manifest.json"]))))
            for stage in ("sample", "curate", "mix")}


def test_a_multi_processing_run_shows_progress_and_records_time_tokens_and_cost(tmp_path, capsys):
    """Reports cross from the worker processes; every manifest has timing, tokens and cost;
    the summary prints them; no progress file or empty .tmp folder is left."""
    out = str(tmp_path / "run")
    assert cli.main(["run", "--config", write_config(tmp_path, PRICED), "--output", out, *MULTI]) == 0
    captured = capsys.readouterr()
    assert "sample: done: prompts 4/4 (100%" in captured.err and "rollouts 8/8 (100%" in captured.err
    assert "curate: done: verified 8/8 (100%" in captured.err
    assert "mix: done: examples " in captured.err and "journeys " in captured.err
    found = _manifests(out)
    rollouts = pq.read_table(glob.glob(os.path.join(out, "sample", "rollouts-*.parquet"))).to_pylist()
    sample = found["sample"]
    assert sample["tokens"] == {"prompt": sum(r["prompt_tokens"] for r in rollouts),
                                "completion": sum(r["completion_tokens"] for r in rollouts)}
    assert sample["cost"] == {"model": "teacher", "currency": "EUR", "prices": {
        "prompt_per_million": 2.0, "completion_per_million": 10.0}, "amount": round(
        (2 * sample["tokens"]["prompt"] + 10 * sample["tokens"]["completion"]) / 1e6, 6)}
    assert found["curate"]["tokens"] == {"prompt": 0, "completion": 0} and found["curate"]["cost"]["amount"] == 0
    for stage, manifest in found.items():
        assert manifest["timing"]["stage_s"] > 0, stage
        assert manifest["config"]["cost"]["currency"] == "EUR"
    assert f"  time:   sample {sample['timing']['stage_s']:.1f} s, curate" in captured.out
    assert f"  tokens: sample {sample['tokens']['prompt']:,} prompt + {sample['tokens']['completion']:,} completion" \
        in captured.out
    assert "  cost:   sample " in captured.out and " EUR" in captured.out
    assert [p for p in glob.glob(os.path.join(out, "**", ".tmp"), recursive=True)] == []
    assert glob.glob(os.path.join(out, "**", "*.json.tmp"), recursive=True) == []
    _check_cost_per_example(out, found, rollouts)


def _check_cost_per_example(out, found, rollouts):
    """Tokens, seconds and money per accepted example by domain, from the rows, in the
    mix manifest and the card."""
    cost = found["mix"]["cost_per_example"]
    examples = pq.read_table(glob.glob(os.path.join(out, "data", "train-*.parquet")),
                             columns=["domain"]).column("domain").to_pylist()
    domain = cost["by_domain"]["math"]
    mine = [r for r in rollouts if r["domain"] == "math"]
    assert domain["examples"] == examples.count("math") > 0 and domain["rollouts"] == len(mine)
    assert domain["prompt_tokens"] == sum(r["prompt_tokens"] for r in mine)
    assert domain["completion_tokens"] == sum(r["completion_tokens"] for r in mine)
    money = (2 * domain["prompt_tokens"] + 10 * domain["completion_tokens"]) / 1e6
    assert domain["per_example"]["amount"] == pytest.approx(money / domain["examples"], abs=1e-8)
    assert domain["per_example"]["tokens"] == pytest.approx(
        (domain["prompt_tokens"] + domain["completion_tokens"]) / domain["examples"], abs=0.1)
    total = cost["total"]
    assert total["examples"] == len(examples) and total["prompt_tokens"] == sum(
        m["tokens"]["prompt"] for m in found.values())  # the journey teacher's tokens too
    assert total["amount"] == pytest.approx(sum(m["cost"]["amount"] for m in found.values()), abs=1e-6)
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    assert "## Cost per accepted example" in card and "### Cost by domain" in card
    assert f"| math | {domain['examples']} | {domain['rollouts']} |" in card
    assert f"{domain['per_example']['amount']:.6f} EUR" in card


def test_quiet_shows_no_progress(tmp_path, capsys):
    out = str(tmp_path / "s")
    assert cli.main(["sample", "--quiet", "--config", write_config(tmp_path), "--output", out]) == 0
    captured = capsys.readouterr()
    assert "pipelines.progress" not in captured.err and "prompts" not in captured.err and captured.out == ""
    assert json.load(open(os.path.join(out, "manifest.json")))["cost"]["amount"] is None  # no prices set


def test_cost_is_unknown_without_prices_and_zero_without_tokens():
    config = RunConfig()
    spent = usage.stage_usage("sample", config, {"sample.prompt_tokens": 10, "sample.completion_tokens": 5}, 0.0)
    assert spent["tokens"] == {"prompt": 10, "completion": 5} and spent["cost"]["amount"] is None
    assert usage.stage_usage("curate", config, {"curate.verdict_correct": 3}, 0.0)["cost"]["amount"] == 0.0
    assert usage.stage_usage("mix", config, {}, 0.0)["tokens"] == {"prompt": None, "completion": None}
    judge = RunConfig(cost=CostConfig(judge=Price(prompt_per_million=1.0)))
    assert usage.stage_usage("curate", judge, {"curate.prompt_tokens": 2_000_000}, 0.0)["cost"]["amount"] == 2.0
    text = usage.format_usage([dict(stage="sample", **spent)])
    assert text.splitlines()[1:] == [
        "  tokens: sample 10 prompt + 5 completion",
        "  cost:   sample unknown (no prices set: cost.teacher.prompt_per_million, "
        "cost.teacher.completion_per_million)"]


@pytest.mark.parametrize("text, message", [
    ("cost: {teacher: {prompt_per_million: -1}}", "cost.teacher: prompt_per_million: must be a number >= 0"),
    ("cost: {judge: {completion_per_million: .inf}}", "cost.judge: completion_per_million: must be a number >= 0"),
    ("cost: {teacher: {input_per_million: 1}}", "unknown key 'cost.teacher.input_per_million'"),
    ("cost: {teacher: {prompt_per_million: cheap}}", "cost.teacher.prompt_per_million: expected a number"),
    ("cost: {currency: ''}", "cost: currency: must be a short name"),
    ("cost: {price: 3}", "unknown key 'cost.price'"),
    ("progress: {log_every_s: 0}", "progress: log_every_s: must be > 0"),
])
def test_bad_cost_and_progress_settings_name_the_key(tmp_path, text, message):
    from pipelines.config import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    assert message in str(err.value)


def test_prices_and_progress_settings_change_no_hash(tmp_path):
    plain = load_config(write_config(tmp_path))
    priced = load_config(write_config(tmp_path, FAKE + "cost: {teacher: {prompt_per_million: 3}}\n"
                                                       "progress: {log_every_s: 5}\n", "p.yaml"))
    assert priced.config_hash == plain.config_hash
    assert priced.cost.teacher.prompt_per_million == 3.0 and priced.progress.log_every_s == 5.0


def test_bars_show_the_launchers_rate_and_eta():
    import io

    plan, found = _plan(Price(completion_per_million=1.0))
    rates = progress.Rates(0.0, found, ["completion_tokens"])
    stream = io.StringIO()
    bars = progress._Bars(plan, rates, stream)
    rates.observe({"prompts": 6, "rollouts": 24, "completion_tokens": 300}, 30.0)
    bars.update(30.0)
    bars.close(30.0, ok=True)
    text = stream.getvalue()
    assert "sample prompts :  25%" in text and "6/24" in text
    assert "0.20/s, ETA 0:01:30, 10.0 tok/s, cost 0.0003 USD" in text
    assert "24/96" in text and "0.80/s, ETA 0:01:30]" in text
