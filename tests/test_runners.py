"""Runner option sets, resource hints on model steps only, --dry-run for Dataflow and Flink
(offline), and byte-identical shards across DirectRunner modes, worker counts,
PYTHONHASHSEED values and a portable job service."""
import glob
import hashlib
import json
import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import dryrun
from pipelines import options as runners
from pipelines.cli import main
from pipelines.config import load_config
from tests.test_e2e import check_manifest
from transforms.models.config import ModelConfig
from transforms.models.handler import ChatRequest
from transforms.models.step import ModelStep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPU = "accelerator=type:nvidia-l4;count:1;install-nvidia-driver"

FAKE = """
seed: 5
sources:
  - {name: arithmetic, generator: arithmetic, count: 10, difficulty: [1]}
  - {name: countdown, generator: countdown, count: 2, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 3, max_tokens: 64}
mix: {reasoning: 10, knowledge: 0, max_rows_per_shard: 5}
output: {max_rows_per_shard: 5}
"""

DATAFLOW = ["--runner=DataflowRunner", "--project=my-project", "--region=us-central1",
            "--temp_location=gs://my-bucket/tmp"]


def _config(tmp_path, text=FAKE):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return str(path)


# -- profiles and flags ------------------------------------------------------------


@pytest.mark.parametrize("options, args", [
    ({"runner": "DirectRunner", "direct_num_workers": 2}, ["--runner=DirectRunner", "--direct_num_workers=2"]),
    ({"save_main_session": True, "streaming": False}, ["--save_main_session"]),
    ({"experiments": ["a", "b=1"]}, ["--experiments=a", "--experiments=b=1"]),
    ({"region": None}, []),
])
def test_options_to_args(options, args):
    assert runners.options_to_args(options) == args


def test_options_to_args_refuses_a_mapping():
    with pytest.raises(ValueError, match="labels"):
        runners.options_to_args({"labels": {"a": "b"}})


def test_every_shipped_profile_is_valid_for_its_runner(monkeypatch):
    monkeypatch.chdir(ROOT)  # profiles name ./setup.py
    profiles = runners.load_profiles()
    assert {"direct", "direct-multi", "dataflow", "dataflow-gpu", "flink", "portable"} <= set(profiles)
    runner_of = {name: PipelineOptions(runners.profile_args(name)) for name in profiles}
    for name, options in runner_of.items():
        assert runners.runner_problems(options) == [], name
    assert runners.runner_of(runner_of["direct-multi"]) == "DirectRunner"
    assert runners.runner_of(runner_of["flink"]) == "FlinkRunner"
    assert runners.step_resource_hints(runner_of["dataflow-gpu"])  # the GPU hint is there
    assert not runners.step_resource_hints(runner_of["dataflow"])


def test_profile_from_another_file_and_unknown_names(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("mine: {runner: DirectRunner, direct_num_workers: 3}\n")
    assert runners.profile_args(f"{path}:mine") == ["--runner=DirectRunner", "--direct_num_workers=3"]
    with pytest.raises(ValueError, match="unknown runner profile 'nope'"):
        runners.profile_args(f"{path}:nope")
    with pytest.raises(FileNotFoundError):
        runners.profile_args(f"{tmp_path}/missing.yaml:mine")


@pytest.mark.parametrize("args, problem", [
    (["--runner=DataflowRunner"], "needs --project"),
    (DATAFLOW, "workers need this package"),
    (DATAFLOW + ["--sdk_container_image=img:1"], None),
    (DATAFLOW + ["--setup_file=./setup.py"], None),
    (DATAFLOW + ["--setup_file=/nonexistent/setup.py"], "no such file"),
    (["--runner=DataflowRunner", "--project=p", "--region=r", "--temp_location=/tmp/x",
      "--sdk_container_image=i"], "needs a gs:// path"),
    (["--runner=FlinkRunner", "--environment_type=BOGUS"], "expected one of DOCKER"),
    (["--runner=FlinkRunner", "--parallelism=0"], "must be >= 1"),
    (["--runner=FlinkRunner", "--environment_type=EXTERNAL"], "needs --environment_config"),
    (["--runner=FlinkRunner", "--flink_master=host:8081", "--environment_type=DOCKER", "--parallelism=4"], None),
    (["--runner=PortableRunner"], "needs --job_endpoint"),
    (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=LOOPBACK"], None),
    (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], None),
])
def test_runner_problems(args, problem, monkeypatch):
    monkeypatch.chdir(ROOT)
    problems = runners.runner_problems(PipelineOptions(args))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("spec, error", [
    ("gpu=1", "Unknown resource hint"),
    ("accelerator", "expected NAME=VALUE"),
    ("min_ram=lots", "invalid value"),
])
def test_malformed_sample_resource_hints_are_refused(spec, error):
    with pytest.raises(ValueError, match=error):
        runners.check_runner_options([f"--sample_resource_hint={spec}"])
    with pytest.raises(ValueError, match=error):
        runners.check_runner_options([f"--model_resource_hint={spec}"])


# -- resource hints on model steps only ---------------------------------------------------

FAKE_MODEL = ModelConfig(backend="fake", model="fake-teacher")


class _ModelAndRule(beam.PTransform):
    """A stage step: a model step between two ordinary steps."""

    def expand(self, pcoll):
        asked = pcoll | "Ask" >> beam.Map(lambda x: ChatRequest([{"role": "user", "content": str(x)}], (x,)))
        return (asked | "Generate" >> ModelStep("Generate", FAKE_MODEL)).results | "Keep" >> beam.Map(str)


class _TwoSteps(beam.PTransform):
    def expand(self, pcoll):
        return pcoll | "Double" >> beam.Map(lambda x: 2 * x) | "Keep" >> beam.Filter(bool)


def _leaf_hints(pipeline):
    """{leaf transform name: its environment's resource hints} of a built pipeline."""
    proto = pipeline.to_runner_api()
    envs = proto.components.environments
    return {t.unique_name: dict(envs[t.environment_id].resource_hints)
            for t in proto.components.transforms.values() if t.environment_id and not t.subtransforms}


def test_sample_resource_hint_lands_on_the_sample_step_only():
    options = PipelineOptions([f"--sample_resource_hint={GPU}", "--sample_resource_hint=min_ram=8GB"])
    pipeline = beam.Pipeline(options=options)
    items = pipeline | "Create" >> beam.Create([1, 2])
    _ = items | "Sample" >> _ModelAndRule() | "After" >> beam.Map(str)
    _ = items | "Sampler" >> _ModelAndRule()  # a prefix of the name is not the step
    _ = items | "Sample2" >> _TwoSteps()
    hinted = runners.apply_step_hints(pipeline, runners.step_resource_hints(options))
    assert "Sample/Generate" in hinted and "Sample/Generate/RunInference" in hinted
    assert all(h.startswith("Sample/Generate") for h in hinted)  # the model step and what is inside it
    leaves = _leaf_hints(pipeline)
    model = [n for n in leaves if n.startswith("Sample/Generate/")]
    assert any("BeamML_RunInference" in n for n in model)
    for name in model:
        assert leaves[name]["beam:resources:accelerator:v1"] == GPU.split("=", 1)[1].encode()
        assert leaves[name]["beam:resources:min_ram_bytes:v1"] == b"8000000000"
    others = [n for n in leaves if not n.startswith("Sample/Generate/")]
    assert any(n.startswith("Sample/Ask") for n in others) and any(n.startswith("Sampler/Generate") for n in others)
    for name in others:  # the steps around the model step, After, Sampler, Sample2: no hints
        assert not leaves[name], name


def test_model_resource_hint_lands_on_every_model_step_and_no_other_step():
    options = PipelineOptions([f"--model_resource_hint={GPU}", "--sample_resource_hint=min_ram=8GB",
                               "--sample_resource_hint=accelerator=type:nvidia-h100;count:1"])
    pipeline = beam.Pipeline(options=options)
    items = pipeline | "Create" >> beam.Create([1, 2])
    _ = items | "Sample" >> _ModelAndRule()
    _ = items | "Judge" >> _ModelAndRule()  # a model step of another stage
    out = items | "Ask" >> beam.Map(lambda x: ChatRequest([{"role": "user", "content": str(x)}], (x,))) \
        | "Probe" >> ModelStep("Probe", FAKE_MODEL)  # a model step at the top level
    _ = out.results | "Rules" >> _TwoSteps()
    hinted = runners.apply_step_hints(pipeline, runners.step_resource_hints(options))
    assert {"Sample/Generate", "Judge/Generate", "Probe"} <= set(hinted)
    leaves = _leaf_hints(pipeline)
    accelerator = "beam:resources:accelerator:v1"
    for name, hints in leaves.items():
        if name.startswith("Sample/Generate/"):  # the sample step's own hints win
            assert hints[accelerator] == b"type:nvidia-h100;count:1" and "beam:resources:min_ram_bytes:v1" in hints
        elif name.startswith(("Judge/Generate/", "Probe/")):
            assert hints == {accelerator: GPU.split("=", 1)[1].encode()}, name
        else:
            assert not hints, name
    assert any(n.startswith("Judge/Generate/") for n in leaves) and any(n.startswith("Rules/") for n in leaves)
    # without --model_resource_hint, a model step outside Sample gets nothing
    only_sample = PipelineOptions([f"--sample_resource_hint={GPU}"])
    pipeline = beam.Pipeline(options=only_sample)
    _ = pipeline | beam.Create([1]) | "Judge" >> _ModelAndRule()
    assert runners.apply_step_hints(pipeline, runners.step_resource_hints(only_sample)) == []


def test_no_hint_no_change():
    pipeline = beam.Pipeline()
    _ = pipeline | beam.Create([1]) | "Sample" >> beam.Map(str)
    assert runners.apply_step_hints(pipeline, runners.step_resource_hints(PipelineOptions([]))) == []


# -- dry runs ---------------------------------------------------------------------------


def test_dataflow_dry_run_builds_every_stage_offline_with_the_gpu_on_sampling_only(tmp_path, capsys):
    out = tmp_path / "out"
    args = runners.profile_args("dataflow-gpu") + ["--job_name=reasoning-corpus-test"]
    reports = dryrun.dry_run("run", load_config(_config(tmp_path)), None, args)
    assert [r["stage"] for r in reports] == ["sample", "curate", "mix"]
    assert all(r["runner"] == "DataflowRunner" and r["job_name"] == "reasoning-corpus-test" for r in reports)
    sample, curate, mix = reports
    assert sample["transforms"] > 10 and sample["hinted_steps"]
    assert all(s.startswith("Sample/") for s in sample["hinted_steps"])
    assert not curate["hinted_steps"] and not mix["hinted_steps"]
    gpu = [e for e in sample["environments"].values() if e["hints"]]
    assert gpu and gpu[0]["hints"]["accelerator"] == GPU.split("=", 1)[1]
    assert all(e["urn"] == "beam:env:docker:v1" for r in reports for e in r["environments"].values())
    # through the CLI: nothing is written under --output
    assert main(["sample", "--config", _config(tmp_path), "--output", str(out), "--profile", "dataflow-gpu",
                 "--dry-run"]) == 0
    assert "dry run on DataflowRunner" in capsys.readouterr().out
    assert not out.exists()


JUDGE = FAKE + "curate:\n  verify:\n    judge: {enabled: true, backend: fake, domains: [math, knowledge]}\n"


def test_dataflow_dry_run_of_curate_hints_the_judge_model_step_and_no_other(tmp_path):
    """With the judge on, curate has a model step (Verify/Judge): --model_resource_hint
    (what the dataflow-gpu profile gives) lands on it and on nothing else."""
    assert f"--model_resource_hint={GPU}" in runners.profile_args("dataflow-gpu")
    upstream = tmp_path / "sample"
    upstream.mkdir()
    (upstream / "manifest.json").write_text(json.dumps({"stage": "sample", "outputs": {"rollouts": {
        "files": [{"path": "rollouts-00000-of-00001.parquet", "rows": 0, "bytes": 0, "sha256": ""}], "rows": 0}}}))
    config = load_config(_config(tmp_path, JUDGE))
    for args in (runners.profile_args("dataflow-gpu"), DATAFLOW + ["--sdk_container_image=img:1",
                                                                   f"--model_resource_hint={GPU}"]):
        [curate] = dryrun.dry_run("curate", config, str(upstream), args + ["--job_name=reasoning-corpus-test"])
        assert curate["stage"] == "curate" and curate["runner"] == "DataflowRunner"
        hinted = curate["hinted_steps"]
        assert hinted and any("RunInference" in s for s in hinted)
        assert all(s.startswith("Verify/Judge/") for s in hinted), hinted  # the model step, not JudgeRequests …
        gpu = [e for e in curate["environments"].values() if e["hints"]]
        assert [e["hints"] for e in gpu] == [{"accelerator": GPU.split("=", 1)[1]}]
    # the judge off: no model step in curate, nothing hinted
    [curate] = dryrun.dry_run("curate", load_config(_config(tmp_path)), str(upstream),
                              runners.profile_args("dataflow-gpu"))
    assert not curate["hinted_steps"]


JOURNEYS = FAKE.replace("mix: {reasoning: 10, knowledge: 0, max_rows_per_shard: 5}",
                        "mix: {reasoning: 10, knowledge: 0, max_rows_per_shard: 5,\n"
                        "      journey: {share: 0.2, modes: %s, locate: %s, max_steps: 3, continuations: 2}}")


def _curate_stand_in(folder):
    """A curate output with (absent) curated rows and wrong attempts, for a mix dry run."""
    folder.mkdir()
    outputs = {name: {"files": [{"path": f"{name}-00000-of-00001.parquet", "rows": 0, "bytes": 0, "sha256": ""}],
                      "rows": 0} for name in ("curated", "wrong_attempts")}
    (folder / "manifest.json").write_text(json.dumps({"stage": "curate", "outputs": outputs}))
    return str(folder)


@pytest.mark.parametrize("modes, locate, model_steps", [
    ("[splice]", "true", ["JourneyProbes"]),  # the demo's journeys: teacher probes
    ("[splice, reflect]", "true", ["JourneyProbes", "JourneyReflect"]),
    ("[reflect]", "false", ["JourneyReflect"]),
    ("[splice]", "false", []),  # no teacher call: no model step, nothing hinted
])
def test_dataflow_dry_run_of_mix_hints_the_journey_model_steps_and_no_other(tmp_path, modes, locate, model_steps):
    """With journeys on, every teacher call in mix is a model step (Journeys/JourneyProbes,
    Journeys/JourneyReflect): --model_resource_hint lands on them and on nothing else."""
    upstream = _curate_stand_in(tmp_path / "curate")
    config = load_config(_config(tmp_path, JOURNEYS % (modes, locate)))
    assert config.mix.journey.enabled
    for args in (runners.profile_args("dataflow-gpu"), DATAFLOW + ["--sdk_container_image=img:1",
                                                                   f"--model_resource_hint={GPU}"]):
        [mix] = dryrun.dry_run("mix", config, upstream, args + ["--job_name=reasoning-corpus-test"])
        assert mix["stage"] == "mix" and mix["runner"] == "DataflowRunner"
        hinted = mix["hinted_steps"]
        prefixes = tuple(f"Journeys/{step}" for step in model_steps)
        assert {h.split("/")[1] for h in hinted} == set(model_steps), hinted
        assert all(h.startswith(prefixes) for h in hinted), hinted  # the model steps, not their requests …
        assert all(any("RunInference" in h and h.startswith(p) for h in hinted) for p in prefixes)
        gpu = [e for e in mix["environments"].values() if e["hints"]]
        assert [e["hints"] for e in gpu] == ([{"accelerator": GPU.split("=", 1)[1]}] if model_steps else [])
    # journeys off: no model step in mix, nothing hinted
    [mix] = dryrun.dry_run("mix", load_config(_config(tmp_path)), upstream, runners.profile_args("dataflow-gpu"))
    assert not mix["hinted_steps"]


def test_flink_dry_run_translates_the_portable_pipeline_offline(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = runners.profile_args("flink") + [f"--sample_resource_hint={GPU}"]
    reports = dryrun.dry_run("run", load_config(_config(tmp_path)), None, args)
    assert [(r["stage"], r["runner"]) for r in reports] == [
        ("sample", "FlinkRunner"), ("curate", "FlinkRunner"), ("mix", "FlinkRunner")]
    assert all(r["transforms"] > 5 for r in reports)
    assert reports[0]["hinted_steps"] and not reports[2]["hinted_steps"]
    assert {e["urn"] for r in reports for e in r["environments"].values()} == {"beam:env:docker:v1"}


def test_dry_run_of_a_single_stage_reads_the_real_upstream_and_refuses_bad_options(tmp_path, capsys):
    config = _config(tmp_path)
    assert main(["curate", "--config", config, "--output", str(tmp_path / "c"), "--dry-run"]) == 2
    assert "curate needs --input" in capsys.readouterr().err
    assert main(["run", "--config", config, "--output", str(tmp_path / "o"), "--runner=DataflowRunner",
                 "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "needs --project" in err and "Traceback" not in err
    assert main(["run", "--config", config, "--output", str(tmp_path / "o"), "--runner=FlinkRunner",
                 "--environment_type=BOGUS", "--dry-run"]) == 2
    assert "--environment_type=BOGUS" in capsys.readouterr().err


def _files(folder):
    return {p: open(p, "rb").read() for p in glob.glob(str(folder / "**"), recursive=True) if os.path.isfile(p)}


def test_dry_run_leaves_an_existing_run_untouched(tmp_path):
    config = _config(tmp_path)
    sample_dir = tmp_path / "s"
    assert main(["sample", "--config", config, "--output", str(sample_dir)]) == 0
    before = _files(sample_dir)
    assert main(["curate", "--config", config, "--input", str(sample_dir), "--output", str(sample_dir),
                 "--profile", "portable", "--dry-run"]) == 0
    assert _files(sample_dir) == before and before


# -- the same bytes whatever the DirectRunner mode ---------------------------------------


MODES = [
    ("in_memory", "0", ["--direct_running_mode=in_memory", "--direct_num_workers=1"]),
    ("multi_processing x2", "2", ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]),
    # the portable path: Beam's own job service in process, SDK workers over the Fn API
    ("portable job service", "3", ["--profile", "portable", "--job_endpoint=embed"]),
]


def _run_cli(args, hashseed):
    """The CLI in a process of its own with this PYTHONHASHSEED; its printed summary."""
    env = dict(os.environ, PYTHONHASHSEED=hashseed, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([sys.executable, "-m", "pipelines"] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _shards(out):
    """Every shard of every stage, by path relative to the run folder."""
    paths = sorted(glob.glob(os.path.join(out, "**", "*-of-*.parquet"), recursive=True))
    return {os.path.relpath(p, out): open(p, "rb").read() for p in paths}


@pytest.mark.slow
def test_shards_are_byte_identical_across_modes_worker_counts_hash_seeds_and_runners(tmp_path):
    """Every stage run by the CLI in each mode: each run prints its summary and writes a
    manifest whose counts add up (a knowledge target with no knowledge source: its
    shortfall reported) and whose checksums are its shards'; every shard is the same bytes."""
    config = _config(tmp_path, FAKE.replace("knowledge: 0,", "knowledge: 5,"))
    outputs = {}
    for name, seed, flags in MODES:
        out = str(tmp_path / name.replace(" ", "_"))
        summary = _run_cli(["run", "--config", config, "--output", out] + flags, seed)
        assert "summary" in summary and "curate" in summary, name
        manifest = check_manifest(out, max_rows_per_shard=5)
        assert manifest["rows"] > 0 and manifest["shortfall"].get("knowledge") == 5, name
        assert [f["sha256"] for f in manifest["outputs"]["data/train"]["files"]] == \
            [hashlib.sha256(b).hexdigest() for _, b in sorted(_shards(os.path.join(out, "data")).items())], name
        outputs[name] = (_shards(out), manifest)
    reference, manifest = outputs["in_memory"]
    assert any(p.startswith("sample/rollouts-") for p in reference)
    assert any(p.startswith("curate/curated-") for p in reference)
    assert any(p.startswith("data/train-") for p in reference) and manifest["rows"] > 0
    for name, (shards, other) in outputs.items():
        assert sorted(shards) == sorted(reference), name
        assert [p for p in reference if shards[p] != reference[p]] == [], name
        assert other["outputs"] == manifest["outputs"], name
