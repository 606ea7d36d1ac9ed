"""The Airflow DAG: its plan (run folders, job names, stage options) as plain
functions, the DagBag import in Airflow's own virtualenv, and ``airflow dags test``
end to end on DirectRunner with the real tiny model, verified by its last task."""
import glob
import importlib.util
import json
import os
import re
import subprocess

import pytest

from publish import accounting
from tests.backend_support import converted_model
from transforms.core import io as rio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIRFLOW_BIN = os.path.join(ROOT, ".venv-airflow", "bin")
needs_airflow = pytest.mark.skipif(
    not os.path.exists(os.path.join(AIRFLOW_BIN, "airflow")),
    reason="no .venv-airflow: `make airflow` builds it (`make test` does)")


def _load_plan_module():
    spec = importlib.util.spec_from_file_location("corpus_plan", os.path.join(ROOT, "dags", "corpus_plan.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plan = _load_plan_module()


# -- the plan ------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", [
    "scheduled__2025-01-06T00:00:00+00:00",
    "manual__2025-01-06T10:11:12.123456+00:00",
    "a/../../etc",
    "",
])
def test_run_key_is_path_safe_and_deterministic(run_id):
    key = plan.run_key(run_id)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", key) and not key.startswith(".")
    assert ".." not in key
    assert plan.run_key(run_id) == key


def test_run_keys_differ_even_when_ids_sanitize_alike():
    assert plan.run_key("manual__a:b") != plan.run_key("manual__a+b")


def test_job_names_are_valid_for_dataflow_deterministic_and_per_stage():
    names = {stage: plan.job_name("reasoning_corpus", "scheduled__2025-01-06T00:00:00+00:00", stage)
             for stage in plan.STAGES}
    assert len(set(names.values())) == 3
    for name in names.values():
        assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name) and len(name) < 64
    assert names["sample"] == plan.job_name("reasoning_corpus", "scheduled__2025-01-06T00:00:00+00:00", "sample")
    assert names["sample"] != plan.job_name("reasoning_corpus", "scheduled__2025-01-13T00:00:00+00:00", "sample")


def test_settings_precedence_param_then_variable_then_default():
    defaults = plan.default_settings("/repo")
    merged = plan.merge_settings({"config": "p.yaml", "runner_profile": ""},
                                 {"runner_profile": "direct-multi", "config": "v.yaml"}, defaults)
    assert merged["config"] == "p.yaml" and merged["runner_profile"] == "direct-multi"
    assert merged["python"] == "/repo/.venv/bin/python" and merged["output_base"] == "/repo/out/airflow"


def test_plan_of_a_dataflow_run():
    settings = plan.merge_settings({"runner_profile": "dataflow", "output_base": "gs://b/corpus",
                                    "beam_options": '{"max_num_workers": 4}'}, {}, plan.default_settings(ROOT))
    run_id = "scheduled__2025-01-06T00:00:00+00:00"
    p = plan.build_plan(settings, "reasoning_corpus", run_id)
    assert p["runner"] == "DataflowRunner"
    assert p["run_dir"] == f"gs://b/corpus/runs/{plan.run_key(run_id)}"
    sample, curate, mix = (p["stages"][s] for s in plan.STAGES)
    assert sample["options"]["output"] == p["run_dir"] + "/sample" and "input" not in sample["options"]
    assert curate["options"]["input"] == sample["options"]["output"]
    assert mix["options"]["input"] == curate["options"]["output"] and mix["options"]["output"] == p["run_dir"]
    for stage, entry in p["stages"].items():
        assert entry["options"]["stage"] == stage and "runner" not in entry["options"]
        assert entry["options"]["job_name"] == entry["job_name"] == entry["dataflow_config"]["job_name"]
        assert entry["dataflow_config"]["append_job_name"] is False
        assert entry["dataflow_config"]["project_id"] == "my-gcp-project"
        assert entry["options"]["max_num_workers"] == 4  # beam_options over the profile
        assert entry["options"]["setup_file"] == os.path.join(ROOT, "./setup.py")
    assert p == plan.build_plan(settings, "reasoning_corpus", run_id)  # a retry plans the same
    assert p["verify_command"].endswith(f"-m pipelines verify {p['run_dir']}")


def test_relative_paths_are_taken_in_the_checkout():
    settings = plan.merge_settings({"config": "configs/demo.yaml", "output_base": "out/af", "input": "hf:org/x"},
                                   {}, plan.default_settings("/repo"))
    settings["repo"] = ROOT  # the profiles file is read from the checkout
    p = plan.build_plan(settings, "reasoning_corpus", "r")
    sample = p["stages"]["sample"]["options"]
    assert sample["config"] == os.path.join(ROOT, "configs/demo.yaml") and sample["input"] == "hf:org/x"
    assert p["run_dir"].startswith(os.path.join(ROOT, "out/af", "runs") + "/")


def test_unknown_profile_and_bad_beam_options():
    settings = plan.default_settings(ROOT)
    with pytest.raises(ValueError, match="unknown runner profile"):
        plan.build_plan(dict(settings, runner_profile="nope"), "d", "r")
    with pytest.raises(ValueError, match="beam_options"):
        plan.build_plan(dict(settings, beam_options="[1, 2]"), "d", "r")


# -- Airflow ---------------------------------------------------------------------------


def _airflow_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow-home"), AIRFLOW__CORE__DAGS_FOLDER=os.path.join(ROOT, "dags"),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", REASONING_CORPUS_RETRIES="1",
               REASONING_CORPUS_RETRY_DELAY_S="1", HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    return env


DAGBAG = r"""
import json
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=DAGS)
dag = bag.dags.get("reasoning_corpus")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dags)}
if dag is not None:
    out.update(
        tasks={t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks},
        kinds={t.task_id: type(t).__mro__[1].__name__ if t.task_id in ("sample", "curate", "mix")
               else type(t).__name__ for t in dag.tasks},
        max_active_runs=dag.max_active_runs, catchup=dag.catchup, schedule=str(dag.schedule),
        params=sorted(dag.params.keys()),
        stage={k: str(getattr(dag.get_task("mix"), k)) for k in ("py_file", "py_options", "runner")},
        verify=dag.get_task("verify").bash_command)
print("DAGBAG " + json.dumps(out))
"""


@needs_airflow
def test_the_dag_imports_cleanly_in_a_dagbag(tmp_path):
    code = DAGBAG.replace("DAGS", repr(os.path.join(ROOT, "dags")))
    proc = subprocess.run([os.path.join(AIRFLOW_BIN, "python"), "-c", code], env=_airflow_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bag = json.loads(proc.stdout.rsplit("DAGBAG ", 1)[1])
    assert bag["errors"] == {} and bag["dags"] == ["reasoning_corpus"]
    assert bag["tasks"] == {"plan": ["sample"], "sample": ["curate"], "curate": ["mix"], "mix": ["verify"],
                            "verify": []}
    assert {bag["kinds"][s] for s in ("sample", "curate", "mix")} == {"BeamRunPythonPipelineOperator"}
    assert bag["max_active_runs"] == 1 and bag["catchup"] is False and bag["schedule"] == "@weekly"
    assert {"config", "runner_profile", "beam_options", "output_base"} <= set(bag["params"])
    assert bag["stage"]["py_file"] == "pipelines.dag_entry" and bag["stage"]["py_options"] == "['-m']"
    assert "verify_command" in bag["verify"]


#: The tiny model is SmolLM2's Hugging Face directory (tests/backend_support.py converts the
#: packaged GGUF once; test_e2e.py says why, and which tests load the GGUF itself).
TINY = """
seed: 11
sources:
  - {{name: arithmetic, generator: arithmetic, count: 3, difficulty: [1]}}
sample:
  backend: transformers
  model: "{model}"
  n: 2
  max_tokens: 40
  torch_threads: 1
  few_shot:
    - user: "What is 12 + 7?\\nPlease reason step by step, and put your final answer within \\\\boxed{{}}."
      assistant: "12 + 7 = 19.\\n\\nThe answer is \\\\boxed{{19}}."
mix: {{reasoning: 10, knowledge: 0, max_rows_per_shard: 2}}
output: {{max_rows_per_shard: 2}}
"""


@needs_airflow
@pytest.mark.slow
def test_airflow_dags_test_runs_the_tiny_model_end_to_end_and_verifies(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.format(model=converted_model()))
    base = tmp_path / "runs-base"
    env = _airflow_env(tmp_path)
    airflow = os.path.join(AIRFLOW_BIN, "airflow")
    migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    conf = json.dumps({"config": str(config), "output_base": str(base)})
    proc = subprocess.run([airflow, "dags", "test", "reasoning_corpus", "-c", conf], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "state=success" in log

    runs = glob.glob(str(base / "runs" / "*"))
    assert len(runs) == 1 and os.path.basename(runs[0]).startswith("manual__")
    run_dir = runs[0]
    for stage in plan.STAGES:  # deterministic job names, passed to each stage
        assert re.search(rf"--job_name=reasoning-corpus-{stage}-[0-9a-f]{{12}}", log), stage
    checked = accounting.verify_manifest(run_dir)
    assert set(checked) == {"sample", "curate", "mix"}
    rollouts = [r for p in rio.published_files(os.path.join(run_dir, "sample"), "rollouts")
                for r in rio.read_parquet_rows(p)]
    assert len(rollouts) == 6 and {r["backend"] for r in rollouts} == {"transformers"}
    assert all(r["completion"] for r in rollouts)

    # the DAG's last task is this command: it fails the run once a published file is altered
    python = plan.default_settings(ROOT)["python"]
    ok = subprocess.run([python, "-m", "pipelines", "verify", run_dir], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-2000:]
    victim = rio.published_files(os.path.join(run_dir, "sample"), "problems")[0]
    with open(victim, "r+b") as fh:
        fh.seek(20)
        fh.write(b"\x00\x01")
    bad = subprocess.run([python, "-m", "pipelines", "verify", run_dir], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1 and "checksum mismatch" in bad.stderr

    # every stage got the registry (base/registry, the DAG's default) and the run is registered
    # there. What a later run on that registry does (no teacher load, nothing generated or
    # published twice, the card's incremental section) is tests/pipelines/test_registry_runs.py,
    # through the same entry point and flags the DAG's stages run (pipelines.dag_entry,
    # --registry), against a real loopback OpenAI-compatible teacher
    registry = str(base / "registry")
    for stage, folder in (("sample", os.path.join(run_dir, "sample")), ("curate", os.path.join(run_dir, "curate")),
                          ("mix", run_dir)):
        manifest = rio.read_json(os.path.join(folder, rio.MANIFEST))
        assert manifest["registry"]["path"] == registry, stage
    assert rio.read_json(os.path.join(run_dir, rio.MANIFEST))["registry"]["runs_read"] == 0
    assert len(glob.glob(os.path.join(registry, "runs", "*", "manifest.json"))) == 1
