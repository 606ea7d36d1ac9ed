"""Where a run runs: runner option sets ("profiles"), per-step resource hints,
``--dry-run``, and the entry point the Airflow DAG launches.

Profiles live in ``configs/runners.yaml``: a mapping of profile name → Beam
flags (``flag: value``; ``true`` for a bare flag, a list for a repeated one).
``--profile NAME`` (or ``FILE:NAME``) puts a profile's flags before the
command line's own, so a flag given explicitly wins. Runner options never enter
the RunConfig: where a run runs changes neither its rows nor its config hash.

``--sample_resource_hint NAME=VALUE`` (an option of ``common.CorpusOptions``, so it
rides along with Beam's and reaches Dataflow as a pipeline option) puts a Beam
resource hint on the ``Sample`` step only: a GPU for the teacher model, CPU
workers for everything else.

A dry run (:func:`dry_run`) runs the stage launchers against a scratch folder
with Beam's ``--dry_run=True``: each stage builds its pipeline, the options are
validated, and the graph is translated for the runner (DataflowRunner builds the
whole job offline; Flink and Portable get the optimized portable pipeline they
would be sent); nothing is executed or submitted.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional

import yaml
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.pipeline import PipelineVisitor
from apache_beam.transforms.resources import merge_resource_hints, parse_resource_hints

from pipelines.common import CorpusOptions, DryRun
from transforms import io as rio

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES_FILE = os.path.join(REPO, "configs", "runners.yaml")

#: The step that gets ``--sample_resource_hint``: the teacher-model step of the sample stage.
SAMPLE_STEP = "Sample"
ENVIRONMENT_TYPES = ("DOCKER", "PROCESS", "EXTERNAL", "LOOPBACK")
PORTABLE_RUNNERS = ("FlinkRunner", "PortableRunner")


# -- profiles --------------------------------------------------------------------


def load_profiles(path: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """The profiles of a runners YAML file: ``{name: {flag: value}}``."""
    path = path or PROFILES_FILE
    if not os.path.exists(path):
        raise FileNotFoundError(f"runner profiles not found: {path}")
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected a mapping of profile name → mapping of Beam flags")
    return data


def options_to_args(options: Dict[str, Any]) -> List[str]:
    """Beam flags from a mapping: ``true`` → ``--flag``, ``false``/``null`` → omitted,
    a list → the flag repeated, anything else → ``--flag=value``."""
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        if value is True:
            args.append(f"--{key}")
        elif isinstance(value, (list, tuple)):
            args.extend(f"--{key}={v}" for v in value)
        elif isinstance(value, dict):
            raise ValueError(f"runner option {key}: a mapping can't be a Beam flag")
        else:
            args.append(f"--{key}={value}")
    return args


def profile_args(spec: str) -> List[str]:
    """The Beam flags of a profile: ``NAME`` (from configs/runners.yaml) or ``FILE:NAME``."""
    path, _, name = spec.rpartition(":")
    profiles = load_profiles(path or None)
    if name not in profiles:
        raise ValueError(f"unknown runner profile {name!r} (known: {', '.join(sorted(profiles))})")
    return options_to_args(profiles[name])


def runner_of(options: PipelineOptions) -> str:
    """The runner's class name (DirectRunner when none is given)."""
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    return runner if isinstance(runner, str) else type(runner).__name__


# -- per-step resource hints --------------------------------------------------------


def step_resource_hints(options: PipelineOptions) -> Dict[str, Dict[str, bytes]]:
    """``{step label: parsed Beam resource hints}`` from ``--sample_resource_hint``."""
    specs = options.view_as(CorpusOptions).sample_resource_hint or []
    raw = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"--sample_resource_hint={spec}: expected NAME=VALUE")
        raw[name] = value
    return {SAMPLE_STEP: parse_resource_hints(raw)} if raw else {}


class _StepHinter(PipelineVisitor):
    """Merges each step's hints into that step and every transform inside it."""

    def __init__(self, hints: Dict[str, Dict[str, bytes]]):
        self.hints = hints
        self.hinted: List[str] = []

    def enter_composite_transform(self, node):
        self._apply(node)

    def visit_transform(self, node):
        self._apply(node)

    def _apply(self, node):
        for step, hints in self.hints.items():
            if node.full_label == step or node.full_label.startswith(step + "/"):
                node.resource_hints = merge_resource_hints(outer_hints=hints,
                                                           inner_hints=node.resource_hints)
                self.hinted.append(node.full_label)


def apply_step_hints(pipeline, hints: Dict[str, Dict[str, bytes]]) -> List[str]:
    """Put resource hints on named steps of a built pipeline; returns the hinted labels.

    A stage without the step (curate, mix have no ``Sample``) is left as it is."""
    if not hints:
        return []
    hinter = _StepHinter(hints)
    pipeline.visit(hinter)
    return hinter.hinted


# -- validating runner options --------------------------------------------------------


def _dataflow_problems(options: PipelineOptions) -> List[str]:
    gcp = options.view_as(GoogleCloudOptions)
    setup = options.view_as(SetupOptions)
    problems = [f"DataflowRunner needs --{flag}" for flag, value in
                (("project", gcp.project), ("region", gcp.region), ("temp_location", gcp.temp_location))
                if not value]
    if gcp.temp_location and not gcp.temp_location.startswith("gs://"):
        problems.append(f"--temp_location={gcp.temp_location}: DataflowRunner needs a gs:// path")
    image = options.view_as(WorkerOptions).sdk_container_image
    if not setup.setup_file and not image:
        problems.append("DataflowRunner workers need this package: give --setup_file=./setup.py "
                        "or --sdk_container_image=IMAGE (built from docker/)")
    if setup.setup_file and not os.path.exists(setup.setup_file):
        problems.append(f"--setup_file={setup.setup_file}: no such file")
    return problems


def _portable_problems(runner: str, options: PipelineOptions) -> List[str]:
    portable = options.view_as(PortableOptions)
    problems = []
    env = portable.environment_type
    if env and env.upper() not in ENVIRONMENT_TYPES:
        problems.append(f"--environment_type={env}: expected one of {', '.join(ENVIRONMENT_TYPES)}")
    if runner == "PortableRunner" and not portable.job_endpoint:
        problems.append("PortableRunner needs --job_endpoint=HOST:PORT (or 'embed')")
    if runner == "FlinkRunner":
        flink = options.view_as(FlinkRunnerOptions)
        if flink.parallelism is not None and flink.parallelism < 1:
            problems.append(f"--parallelism={flink.parallelism}: must be >= 1")
    if env and env.upper() in ("EXTERNAL", "PROCESS") and not portable.environment_config:
        problems.append(f"--environment_type={env} needs --environment_config")
    return problems


def runner_problems(options: PipelineOptions) -> List[str]:
    """What is missing or wrong in the options for their runner (Beam validates the rest
    when the pipeline is constructed)."""
    runner = runner_of(options)
    if runner == "DataflowRunner":
        return _dataflow_problems(options)
    if runner in PORTABLE_RUNNERS:
        return _portable_problems(runner, options)
    return []


def check_runner_options(beam_args: List[str]) -> PipelineOptions:
    """Parse ``beam_args`` and raise ValueError naming every problem for their runner."""
    options = PipelineOptions(list(beam_args))
    problems = runner_problems(options)
    step_resource_hints(options)  # raises on a malformed hint
    if problems:
        raise ValueError(f"{runner_of(options)} options: " + "; ".join(problems))
    return options


# -- dry runs ------------------------------------------------------------------------


def _environments(proto) -> Dict[str, dict]:
    out = {}
    for env_id, env in sorted(proto.components.environments.items()):
        out[env_id] = {"urn": env.urn,
                       "hints": {k.split(":")[2]: v.decode("utf-8", "replace")
                                 for k, v in sorted(env.resource_hints.items())}}
    return out


def translate(pipeline) -> dict:
    """Translate a built pipeline for its runner without running anything.

    DataflowRunner runs with ``--dry_run=True`` (it builds the job and stops before
    submitting); Flink and Portable get ``PortableRunner.get_proto_pipeline`` (the
    optimized pipeline a job service would receive); other runners the plain
    runner-API proto. Returns a summary of the graph."""
    options = pipeline.options
    runner = runner_of(options)
    job_name = None
    if runner == "DataflowRunner":
        result = pipeline.run()
        proto = pipeline.runner.proto_pipeline
        job_name = result.job.proto.name
    elif runner in PORTABLE_RUNNERS:
        from apache_beam.runners.portability.portable_runner import PortableRunner

        proto = PortableRunner.get_proto_pipeline(pipeline, options)
    else:
        proto = pipeline.to_runner_api()
    transforms = proto.components.transforms
    hinted_envs = {k for k, env in proto.components.environments.items() if env.resource_hints}
    return {
        "runner": runner,
        "job_name": job_name,
        "transforms": sum(1 for t in transforms.values() if not t.subtransforms),
        "hinted_steps": sorted(t.unique_name for t in transforms.values()
                               if t.environment_id in hinted_envs and not t.subtransforms),
        "environments": _environments(proto),
    }


def _stub_manifest(stage_dir: str, stage: str, outputs) -> None:
    """A stand-in upstream manifest for a dry run: one (absent) file per output."""
    files = {name: {"files": [{"path": f"{name}-00000-of-00001.parquet", "rows": 0, "bytes": 0,
                               "sha256": ""}], "rows": 0} for name in outputs}
    rio.write_json(rio.join(stage_dir, rio.MANIFEST), {"stage": stage, "outputs": files})


def _dry_stage(stage: str, launch: Callable[[], dict]) -> dict:
    try:
        launch()
    except DryRun as stop:
        return dict(stop.report, stage=stage)
    raise RuntimeError(f"{stage}: the launcher finished without building a pipeline")


def dry_run(command: str, config, input_dir: Optional[str], beam_args: List[str]) -> List[dict]:
    """Build (and translate) every stage of ``command`` for the runner; submit nothing.

    The launchers run against a scratch folder (nothing under the real output is
    touched); a stage whose upstream is not there yet reads a stand-in manifest.
    Raises ValueError when the runner options are incomplete or invalid."""
    from pipelines import curate, mix, sample

    if command in ("curate", "mix") and not input_dir:
        raise ValueError(f"{command} needs --input: the output folder of the previous stage")
    check_runner_options(beam_args)
    args = list(beam_args) + ["--dry_run=True"]
    reports = []
    with tempfile.TemporaryDirectory(prefix="reasoning-corpus-dry-run-") as scratch:
        s_dir, c_dir = os.path.join(scratch, "sample"), os.path.join(scratch, "curate")
        whole = command in ("demo", "run")
        if whole or command == "sample":
            reports.append(_dry_stage("sample", lambda: sample.run(config, s_dir, args)))
        if whole or command == "curate":
            upstream = input_dir if command == "curate" else s_dir
            if whole:
                _stub_manifest(s_dir, "sample", sample.OUTPUTS)
            reports.append(_dry_stage("curate", lambda: curate.run(config, upstream, c_dir, args)))
        if whole or command == "mix":
            upstream = input_dir if command == "mix" else c_dir
            if whole:
                _stub_manifest(c_dir, "curate", curate.OUTPUTS)
            reports.append(_dry_stage("mix", lambda: mix.run(config, upstream, scratch, args)))
    return reports


def format_dry_run(reports: List[dict]) -> str:
    """A printable summary of a dry run."""
    runner = reports[0]["runner"] if reports else "?"
    lines = [f"dry run on {runner}: options valid, graphs built, nothing run or submitted"]
    for r in reports:
        hinted = r["hinted_steps"]
        hints = sorted({f"{k}={v}" for env in r["environments"].values() for k, v in env["hints"].items()})
        line = f"  {r['stage']:<8} {r['transforms']} transforms"
        if r["job_name"]:
            line += f", job {r['job_name']}"
        if hinted:
            line += f"; {len(hinted)} with hints {', '.join(hints)}"
        lines.append(line)
    return "\n".join(lines)


# -- the Airflow entry point -----------------------------------------------------------


def stage_main(argv: Optional[List[str]] = None) -> int:
    """``python -m pipelines.runners --stage=STAGE --config=C --output=D [--input=I] [beam flags]``.

    What the DAG's BeamRunPythonPipelineOperator runs (it passes everything as
    ``--key=value``): the CLI command ``STAGE`` with the remaining flags."""
    from pipelines import cli

    parser = argparse.ArgumentParser(prog="python -m pipelines.runners")
    parser.add_argument("--stage", required=True, choices=("sample", "curate", "mix"))
    args, rest = parser.parse_known_args(argv)
    return cli.main([args.stage] + rest)


if __name__ == "__main__":
    from pipelines.cli import exit_now

    exit_now(stage_main())  # classes above are defined twice then (here and on import): none is registered
