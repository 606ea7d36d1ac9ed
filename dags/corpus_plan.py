"""The plan of one scheduled run of reasoning-corpus: its run folder, its job names,
and the runner options of each stage.

Plain Python (the standard library and PyYAML): the DAG imports it at parse time,
and the project's tests import it without Airflow. Everything in a plan is a
function of the settings and of the DAG run's id, so every try of a task (an
Airflow retry) gets the same folder and the same job names, and two DAG runs
never share a folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
from typing import Any, Dict, Optional

import yaml

STAGES = ("sample", "curate", "mix")
#: Settings of a run: a DAG param wins, then the Airflow Variable ``reasoning_corpus_<name>``,
#: then the default of :func:`default_settings`.
SETTINGS = ("repo", "python", "config", "output_base", "runner_profile", "beam_options", "input", "limit",
            "registry")
#: The ``registry`` setting that turns the corpus registry off.
NO_REGISTRY = "none"
VARIABLE_PREFIX = "reasoning_corpus_"


def default_settings(repo: str) -> Dict[str, Any]:
    """Defaults for a checkout at ``repo`` (its .venv, demo config and out/ folder)."""
    return {
        "repo": repo,
        "python": os.path.join(repo, ".venv", "bin", "python"),
        "config": os.path.join(repo, "configs", "demo.yaml"),
        "output_base": os.path.join(repo, "out", "airflow"),
        "runner_profile": "direct",
        "beam_options": {},
        "input": None,
        "limit": None,
        "registry": None,  # None: OUTPUT_BASE/registry; "none": no registry
    }


Settings = Dict[str, Any]


def merge_settings(params: Settings, variables: Settings, defaults: Settings) -> Settings:
    """Per setting: the param if set, else the Variable if set, else the default."""
    merged = {}
    for key in SETTINGS:
        for source in (params, variables, defaults):
            value = source.get(key)
            if value not in (None, "", {}):
                merged[key] = value
                break
        else:
            merged[key] = defaults.get(key)
    return merged


def run_key(run_id: str) -> str:
    """A folder name for one DAG run: its run id made path-safe, plus a hash of the
    exact id (two ids that sanitize alike still get different folders)."""
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id)).strip("-.")[:60] or "run"
    return f"{safe}-{hashlib.sha256(run_id.encode('utf-8')).hexdigest()[:8]}"


def job_name(dag_id: str, run_id: str, stage: str) -> str:
    """The job name of a stage of a DAG run (Dataflow's rules: lowercase letters,
    digits and hyphens). Deterministic, so a retry asks for the same job: Dataflow
    refuses a second active job of that name instead of running two."""
    digest = hashlib.sha256(f"{dag_id}\0{run_id}".encode("utf-8")).hexdigest()[:12]
    return f"reasoning-corpus-{stage}-{digest}"


def load_profile(repo: str, spec: str) -> Dict[str, Any]:
    """A runner profile (``NAME`` from the repo's configs/runners.yaml, or ``FILE:NAME``)."""
    path, _, name = spec.rpartition(":")
    path = path or os.path.join(repo, "configs", "runners.yaml")
    with open(path, encoding="utf-8") as fh:
        profiles = yaml.safe_load(fh) or {}
    if name not in profiles:
        raise ValueError(f"unknown runner profile {name!r} in {path} (known: {', '.join(sorted(profiles))})")
    return dict(profiles[name])


def in_repo(repo: str, path: Optional[str]) -> Optional[str]:
    """A local path relative to the checkout (tasks don't run in it); URLs, ``hf:``
    sources and absolute paths as they are."""
    if not path or "://" in path or path.startswith("hf:") or os.path.isabs(path):
        return path
    return os.path.join(repo, path)


def _beam_options(value: Any) -> Dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError(f"beam_options: expected a mapping of Beam flags, got {value!r}")
    return value


def build_plan(settings: Dict[str, Any], dag_id: str, run_id: str) -> Dict[str, Any]:
    """Everything the stage tasks of one DAG run need, as plain JSON-able data."""
    repo = settings["repo"]
    options = load_profile(repo, settings["runner_profile"])
    options.update(_beam_options(settings.get("beam_options") or {}))
    runner = options.pop("runner", "DirectRunner")
    if options.get("setup_file"):
        options["setup_file"] = in_repo(repo, options["setup_file"])
    run_dir = os.path.join(in_repo(repo, settings["output_base"]), "runs", run_key(run_id))
    dirs = {"sample": os.path.join(run_dir, "sample"), "curate": os.path.join(run_dir, "curate"),
            "mix": run_dir}
    upstream: Dict[str, Optional[str]] = {"sample": in_repo(repo, settings.get("input")),
                                          "curate": dirs["sample"], "mix": dirs["curate"]}
    registry = settings.get("registry") or os.path.join(in_repo(repo, settings["output_base"]), "registry")
    registry = None if registry == NO_REGISTRY else in_repo(repo, registry)
    stages = {}
    for stage in STAGES:
        name = job_name(dag_id, run_id, stage)
        stage_options = dict(options, stage=stage, config=in_repo(repo, settings["config"]),
                             output=dirs[stage], job_name=name)
        if upstream[stage]:
            stage_options["input"] = upstream[stage]
        if registry:
            stage_options["registry"] = registry
        if stage == "sample" and settings.get("limit") is not None:
            stage_options["limit"] = int(settings["limit"])
        stages[stage] = {
            "job_name": name,
            "output": dirs[stage],
            "options": stage_options,
            "dataflow_config": {"job_name": name, "append_job_name": False,
                                "project_id": options.get("project"), "location": options.get("region"),
                                "wait_until_finished": True},
        }
    python = settings["python"]
    return {
        "run_key": run_key(run_id),
        "run_dir": run_dir,
        "registry": registry,
        "runner": runner,
        "python": python,
        "stages": stages,
        "verify_command": f"{shlex.quote(python)} -m pipelines verify {shlex.quote(run_dir)}",
    }
