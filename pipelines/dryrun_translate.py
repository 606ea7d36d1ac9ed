"""Translate a built pipeline for its runner without running anything (``--dry_run``)."""
from __future__ import annotations

from typing import Dict

from apache_beam.runners.portability.portable_runner import PortableRunner

from pipelines.options import PORTABLE_RUNNERS, runner_of


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
        # the composite steps, two levels deep (``Stage/Step``): what docs/architecture.md names
        "steps": sorted({"/".join(t.unique_name.split("/")[:2]) for t in transforms.values() if t.unique_name}),
    }
