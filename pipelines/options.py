"""Beam options of a run: this project's own options, runner profiles, per-step
resource hints and the checks of runner options.

Profiles live in ``configs/runners.yaml``: a mapping of profile name → Beam
flags (``flag: value``; ``true`` for a bare flag, a list for a repeated one).
``--profile NAME`` (or ``FILE:NAME``) puts a profile's flags before the
command line's own, so a flag given explicitly wins. Runner options never enter
the RunConfig: where a run runs changes neither its rows nor its config hash.

Resource hints go to model steps only (:class:`transforms.models.step.ModelStep`, every
model call of the project): a GPU for the models, CPU workers for everything else.
``--model_resource_hint NAME=VALUE`` puts a Beam resource hint on every model step;
``--sample_resource_hint NAME=VALUE`` on the model steps of the ``Sample`` step (the
teacher), over the general ones where both name the same hint. Both are options of
:class:`CorpusOptions`, so they ride along with Beam's and reach Dataflow as pipeline
options.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES_FILE = os.path.join(REPO, "configs", "runners.yaml")

#: The step whose model steps get ``--sample_resource_hint``: the sample stage's teacher.
SAMPLE_STEP = "Sample"
#: The scope of ``--model_resource_hint`` in :func:`step_resource_hints`: every model step.
EVERY_MODEL_STEP = ""
ENVIRONMENT_TYPES = ("DOCKER", "PROCESS", "EXTERNAL", "LOOPBACK")
PORTABLE_RUNNERS = ("FlinkRunner", "PortableRunner")


class CorpusOptions(PipelineOptions):
    """This project's own pipeline options, parsed from the same flags as Beam's.

    Defined here, in a module never run as ``__main__``: a PipelineOptions subclass
    defined twice would register its flags twice."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--sample_resource_hint", action="append", default=None, metavar="NAME=VALUE",
            help="a Beam resource hint for the model step of the Sample step only (repeatable), "
                 "e.g. accelerator=type:nvidia-l4;count:1;install-nvidia-driver or min_ram=16GB")
        parser.add_argument(
            "--model_resource_hint", action="append", default=None, metavar="NAME=VALUE",
            help="a Beam resource hint for every model step (sampling, and any other model "
                 "call) and no other step (repeatable); --sample_resource_hint wins for the "
                 "Sample step where both name the same hint")


def pipeline_options(beam_args: List[str]) -> PipelineOptions:
    args = list(beam_args)
    if not any(a.startswith("--runner") for a in args):
        args.append("--runner=DirectRunner")
    return PipelineOptions(args)


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


def _parse_hints(flag: str, specs: List[str]) -> Dict[str, bytes]:
    raw = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"--{flag}={spec}: expected NAME=VALUE")
        raw[name] = value
    return parse_resource_hints(raw) if raw else {}


def step_resource_hints(options: PipelineOptions) -> Dict[str, Dict[str, bytes]]:
    """``{scope: parsed Beam resource hints}`` for the model steps: :data:`EVERY_MODEL_STEP`
    from ``--model_resource_hint``, :data:`SAMPLE_STEP` from ``--sample_resource_hint``."""
    corpus = options.view_as(CorpusOptions)
    scopes = {EVERY_MODEL_STEP: _parse_hints("model_resource_hint", corpus.model_resource_hint or []),
              SAMPLE_STEP: _parse_hints("sample_resource_hint", corpus.sample_resource_hint or [])}
    return {scope: hints for scope, hints in scopes.items() if hints}


def _within(label: str, step: str) -> bool:
    return label == step or label.startswith(step + "/")


class _StepHinter(PipelineVisitor):
    """Merges the hints of each model step's scopes into that step and every transform
    inside it; no other transform is touched."""

    def __init__(self, hints: Dict[str, Dict[str, bytes]]):
        # imported here, not at start-up: it pulls in Beam's RunInference and with it torch
        # (seconds), which a stage without model steps never needs
        from transforms.models.step import is_model_step

        self.is_model_step = is_model_step
        self.hints = hints
        self.model_steps: List[str] = []
        self.hinted: List[str] = []

    def enter_composite_transform(self, node):
        if self.is_model_step(node.transform):  # entered before anything inside it
            self.model_steps.append(node.full_label)
        self._apply(node)

    def visit_transform(self, node):
        self._apply(node)

    def _apply(self, node) -> None:
        label = node.full_label
        if not any(_within(label, step) for step in self.model_steps):
            return
        hints: Dict[str, bytes] = {}
        for scope in (EVERY_MODEL_STEP, SAMPLE_STEP):  # the sample step's own win
            if scope in self.hints and (scope == EVERY_MODEL_STEP or _within(label, scope)):
                hints.update(self.hints[scope])
        if hints:
            node.resource_hints = merge_resource_hints(outer_hints=hints, inner_hints=node.resource_hints)
            self.hinted.append(label)


def apply_step_hints(pipeline, hints: Dict[str, Dict[str, bytes]]) -> List[str]:
    """Put resource hints on the model steps of a built pipeline (and everything inside
    them); returns the hinted labels.

    A stage without model steps (curate with the judge off, mix without journeys) is
    left as it is."""
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
