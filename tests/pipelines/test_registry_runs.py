"""Scheduled runs that build on the last one, through the DAG's entry point
(``pipelines.dag_entry``, one stage per call, ``--registry`` as the DAG passes it) against a
real OpenAI-compatible loopback server that counts its requests: the second run asks the
teacher nothing and publishes nothing already published (and says so); a third run with
one new source, in ``new_sources_only`` mode, samples only that source's problems."""
import json
import os

import pytest

from pipelines import dag_entry
from publish import registry as reg
from tests.backend_support import arithmetic_teacher
from transforms.core import io as rio

IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]

CONFIG = """
seed: 7
sources:
  - {{name: small, generator: arithmetic, count: 4, difficulty: [0]}}
{extra}
sample: {{backend: openai, base_url: "{url}", model: teacher, n: 2, max_tokens: 32, max_retries: 0,
          timeout_s: 10, api_key_env: null}}
mix: {{reasoning: 20, knowledge: 0, max_rows_per_shard: 4}}
output: {{max_rows_per_shard: 4}}
"""


def _stages(config, run_dir, registry, stages=("sample", "curate", "mix"), settings=()):
    dirs = {"sample": f"{run_dir}/sample", "curate": f"{run_dir}/curate", "mix": run_dir}
    inputs = {"curate": dirs["sample"], "mix": dirs["curate"]}
    for stage in stages:
        argv = [f"--stage={stage}", f"--config={config}", f"--output={dirs[stage]}", f"--registry={registry}"]
        argv += [f"--input={inputs[stage]}"] if stage in inputs else []
        argv += [f"--set={s}" for s in settings] + IN_MEMORY
        assert dag_entry.stage_main(argv) == 0, stage


def _manifest(folder):
    return rio.read_json(os.path.join(folder, rio.MANIFEST))


def _rows(folder, name, column):
    return [r[column] for p in rio.published_files(folder, name) for r in rio.read_columns([p], [column])]


@pytest.mark.slow
def test_second_run_asks_nothing_publishes_nothing_again_third_samples_only_the_new_source(tmp_path, capsys):
    registry = str(tmp_path / "registry")
    with arithmetic_teacher() as teacher:
        config = tmp_path / "c.yaml"
        config.write_text(CONFIG.format(url=teacher.base_url, extra=""))

        first = str(tmp_path / "runs" / "1")
        _stages(config, first, registry)
        assert len(teacher.requests) == 4 * 2  # every sample is its own request
        published = _manifest(first)
        assert published["rows"] > 0 and published["registry"]["already_published"] == 0
        assert len(reg.registered_runs(registry)) == 1
        first_ids = set(_rows(first, "data/train", "problem_id"))
        capsys.readouterr()

        second = str(tmp_path / "runs" / "2")
        _stages(config, second, registry)
        out = capsys.readouterr().out
        assert len(teacher.requests) == 8  # nothing asked of the teacher
        sample = _manifest(f"{second}/sample")
        assert sample["resume"]["rollouts_reused"] == 8 and sample["resume"]["rollouts_generated"] == 0
        assert sample["resume"]["teacher_loads"] == 0  # the teacher was never even loaded
        assert sample["counters"].get("sample.completion_tokens", 0) == 0
        mix = _manifest(second)
        entry = mix["registry"]
        assert mix["rows"] == 0 and entry["already_published"] == 0 and entry["nothing_new"]
        assert entry["runs_read"] == 1  # the first run, registered
        assert entry["removed_as_published"] >= len(first_ids)  # each published problem's rollouts
        assert mix["funnel"]["rejected"].get("curate/dedup_prompts/duplicate", 0) >= len(first_ids)
        assert "nothing new to publish" in out and "0 of 0 rows already published" in out
        card = open(os.path.join(second, "README.md"), encoding="utf-8").read()
        assert "## Incremental run" in card and "Nothing new to publish" in card
        assert len(reg.registered_runs(registry)) == 2

        config.write_text(CONFIG.format(url=teacher.base_url, extra=(
            "  - {name: added, generator: arithmetic, count: 3, difficulty: [1]}")))
        third = str(tmp_path / "runs" / "3")
        _stages(config, third, registry, stages=("sample",), settings=["registry.new_sources_only=true"])
        new_requests = teacher.requests[8:]
        assert len(new_requests) == 3 * 2
        problems = {p["problem_id"]: p for f in rio.published_files(f"{third}/sample", "problems")
                    for p in rio.read_parquet_rows(f)}
        added = {p["prompt"].split("\n", 1)[0] for p in problems.values() if p["source"] == "added"}
        assert set(new_requests) == added  # only the new source's problems were asked for
        sampled = set(_rows(f"{third}/sample", "rollouts", "problem_id"))
        assert sampled == {pid for pid, p in problems.items() if p["source"] == "added"}
        third_sample = _manifest(f"{third}/sample")
        assert third_sample["funnel"]["rejected"]["sample/new_sources_only/seen_before"] == 4
        assert third_sample["registry"]["problems_seen_before"] == 4


def test_the_dag_plan_passes_the_registry_to_every_stage():
    import importlib.util

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location("corpus_plan", os.path.join(root, "dags", "corpus_plan.py"))
    plan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plan)
    settings = dict(plan.default_settings(root), output_base="/base")
    built = plan.build_plan(settings, "reasoning_corpus", "manual__1")
    assert built["registry"] == "/base/registry"
    assert {s["options"]["registry"] for s in built["stages"].values()} == {"/base/registry"}
    off = plan.build_plan(dict(settings, registry="none"), "reasoning_corpus", "manual__1")
    assert off["registry"] is None and all("registry" not in s["options"] for s in off["stages"].values())
    assert json.dumps(off)  # plain data for XCom
