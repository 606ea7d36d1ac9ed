"""Stage times, token totals and cost: what every stage manifest records and the run
summary prints.

Each stage manifest gets::

    "timing": {"stage_s": 212.4},                 # the stage's wall time, launcher start to manifest
    "tokens": {"prompt": 10412, "completion": 23580},   # of this run's model calls
    "cost": {"model": "teacher", "currency": "USD", "amount": 0.0157,
             "prices": {"prompt_per_million": 0.15, "completion_per_million": 0.6}}

Tokens are the stage's counters ``<stage>.prompt_tokens`` and ``<stage>.completion_tokens``:
sampling (the teacher), the judge in curate, the journey teacher in mix; a prompt counts
once per sample (every backend sends each sample as its own request), a rollout reused
from the journal counts nothing. They are ``null`` when the runner reports no metrics.
``amount`` is ``null`` (unknown) when tokens were spent and the model's prices
(``cost.teacher``, ``cost.judge``) are not set, which is the default: free, or not told.
"""
from __future__ import annotations

import os
import time
from typing import Dict, List, Optional

from apache_beam.io.filesystems import FileSystems

from pipelines.config import RunConfig
from pipelines.progress import money
from publish.costs import cost_per_example
from publish.manifest import load_stage_manifest
from transforms.core import io as rio

#: The model whose prices (config ``cost.<model>``) a stage's model calls are charged at.
PRICED_MODEL = {"sample": "teacher", "curate": "judge", "mix": "teacher"}
STAGES = ("sample", "curate", "mix")


def stage_usage(stage: str, config: RunConfig, counters: Dict[str, int], started: float) -> dict:
    """The manifest's ``timing``, ``tokens`` and ``cost`` of a stage that started at
    ``started`` (``time.monotonic()``), from its pipeline's ``counters``."""
    tokens: Dict[str, Optional[int]] = {"prompt": None, "completion": None}
    if counters:  # a runner that reports no metrics leaves them unknown
        tokens = {kind: int(counters.get(f"{stage}.{kind}_tokens", 0)) for kind in ("prompt", "completion")}
    model = PRICED_MODEL[stage]
    price = getattr(config.cost, model)
    amount: Optional[float] = None
    if tokens["prompt"] is not None and tokens["completion"] is not None:
        if not tokens["prompt"] and not tokens["completion"]:
            amount = 0.0
        elif price.is_set:
            amount = round((tokens["prompt"] * price.prompt_per_million
                            + tokens["completion"] * price.completion_per_million) / 1e6, 6)
    return {
        "timing": {"stage_s": round(time.monotonic() - started, 3)},
        "tokens": tokens,
        "cost": {"model": model, "currency": config.cost.currency, "amount": amount,
                 "prices": {"prompt_per_million": price.prompt_per_million,
                            "completion_per_million": price.completion_per_million}},
    }


def run_manifests(manifest: dict, stages: List[str]) -> List[dict]:
    """The manifests of the ``stages`` a command ran, upstream first: ``manifest`` (the
    last stage's) and those its ``upstream`` names."""
    found = []
    for stage in STAGES:
        if stage not in stages:
            continue
        if stage == manifest.get("stage"):
            found.append(manifest)
        elif stage in manifest.get("upstream", {}):
            path = manifest["upstream"][stage]
            if os.path.exists(os.path.join(path, "manifest.json")):
                found.append(load_stage_manifest(path, stage))
    return found


def _n(value: int) -> str:
    return f"{value:,}"


def format_usage(manifests: List[dict]) -> str:
    """The summary's time, tokens and cost lines over the stages of a run."""
    timed = [(m["stage"], m["timing"]["stage_s"]) for m in manifests if "timing" in m]
    if not timed:
        return ""
    lines = ["  time:   " + ", ".join(f"{stage} {s:.1f} s" for stage, s in timed)
             + (f"; total {sum(s for _, s in timed):.1f} s" if len(timed) > 1 else "")]
    spent = [m for m in manifests if (m.get("tokens") or {}).get("prompt") or (m.get("tokens") or {}).get("completion")]
    unknown = [m for m in manifests if "tokens" in m and m["tokens"].get("prompt") is None]
    if not spent:
        lines.append("  tokens: unknown (the runner reports no metrics)" if unknown else
                     "  tokens: none (no model calls)")
        return "\n".join(lines)
    lines.append("  tokens: " + "; ".join(
        f"{m['stage']} {_n(m['tokens']['prompt'])} prompt + {_n(m['tokens']['completion'])} completion"
        for m in spent))
    costs = [m["cost"] for m in spent]
    priced = [c for c in costs if c["amount"] is not None]
    parts = [f"{m['stage']} " + (money(m["cost"]["amount"], m["cost"]["currency"]) if m["cost"]["amount"] is not None
                                 else "unknown") for m in spent]
    missing = sorted({c["model"] for c in costs if c["amount"] is None})
    text = "  cost:   " + ", ".join(parts)
    if len(priced) > 1 and len({c["currency"] for c in priced}) == 1:
        text += f"; total {money(sum(c['amount'] for c in priced), priced[0]['currency'])}" + \
            (" (without the unknown)" if missing else "")
    if missing:
        text += " (no prices set: " + ", ".join(f"cost.{m}.prompt_per_million, cost.{m}.completion_per_million"
                                                for m in missing) + ")"
    lines.append(text)
    return "\n".join(lines)


def accelerators(config: RunConfig) -> int:
    """Accelerators the teacher holds while sampling: ``cost.accelerators``, else vLLM's
    tensor_parallel_size, 1 for transformers on a GPU, 0 (unknown) on CPU or a server."""
    if config.cost.accelerators:
        return config.cost.accelerators
    if config.sample.backend == "vllm":
        return config.sample.tensor_parallel_size
    return 1 if config.sample.backend == "transformers" and config.sample.device != "cpu" else 0


def _usage_line(stage: str, usage: dict) -> dict:
    return {"stage": stage, "stage_s": usage["timing"]["stage_s"], "prompt": usage["tokens"]["prompt"],
            "completion": usage["tokens"]["completion"], "amount": usage["cost"]["amount"]}


def per_example(config: RunConfig, curate_manifest: dict, sample_dir: Optional[str], counters: Dict[str, int],
                started: float, data_files: List[str]) -> Optional[dict]:
    """The mix manifest's ``cost_per_example`` (:mod:`publish.costs`), or None when the
    sample stage's manifest can't be found (a corpus mixed from a moved curate folder)."""
    sample_dir = sample_dir or (curate_manifest.get("upstream") or {}).get("sample")
    if not sample_dir or not FileSystems.exists(rio.join(sample_dir, "manifest.json")):
        return None
    sample = load_stage_manifest(sample_dir, "sample")
    stages = [_usage_line(m["stage"], m) for m in (sample, curate_manifest) if "timing" in m]
    stages.append(_usage_line("mix", stage_usage("mix", config, counters, started)))
    price = config.cost.teacher
    return cost_per_example([f["path"] for f in sample["outputs"]["rollouts"]["files"]], data_files, stages,
                            {"prompt_per_million": price.prompt_per_million,
                             "completion_per_million": price.completion_per_million},
                            config.cost.currency, accelerators(config))
