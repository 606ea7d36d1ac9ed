"""``--estimate-cost N``: what a config would cost, from a small sample.

Samples about ``N`` problems (the first of each source, in proportion to its size;
problem curation included, so its rejection share is measured too) into
``OUTPUT/estimate/`` with the config's own teacher, then extrapolates to the whole plan
(every source's records, each at most its ``limit``): the problems left after curation ×
``sample.n`` rollouts × the sampled rollouts' mean prompt and completion tokens, the money
at ``cost.teacher`` and the time at the sample's seconds per problem (same parallelism).
Writes ``OUTPUT/estimate.json`` and prints it; nothing else runs. The figures are
estimates: the first problems of a file need not be typical, and a sample of a few
problems has a wide error (``estimate.json`` keeps the sample's own figures beside them).
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import List, Optional

from pipelines import sample
from pipelines.config import RunConfig
from publish.manifest import load_stage_manifest
from transforms.core import io as rio
from transforms.ingest.planning import planned_records

FOLDER = "estimate"
FILE = "estimate.json"


def sampled_config(config: RunConfig, problems: int) -> RunConfig:
    """The config with each source limited to its share of ``problems`` (at least 1)."""
    sizes = [planned_records((s,)) for s in config.sources]
    known = [s for s in sizes if s is not None]
    total = sum(known) if len(known) == len(sizes) else None
    sources = []
    for source, size in zip(config.sources, sizes):
        share = problems if total is None or size is None else max(1, math.ceil(problems * size / max(total, 1)))
        limit = share if source.limit is None else min(source.limit, share)
        sources.append(dataclasses.replace(source, limit=limit))
    return dataclasses.replace(config, sources=tuple(sources))


def _per(value: float, count: int) -> Optional[float]:
    return value / count if count else None


def estimate(config: RunConfig, manifest: dict, rollout_rows: List[dict], planned: Optional[int]) -> dict:
    """The extrapolation from a sample stage's manifest and rollout rows (see the module doc)."""
    line = manifest["accounting"]["sample"]
    asked, sampled = line["in"], line["sampled"]
    prompt = sum(r["prompt_tokens"] for r in rollout_rows)
    completion = sum(r["completion_tokens"] for r in rollout_rows)
    stage_s = manifest["timing"]["stage_s"]
    keep = _per(sampled, asked)
    problems = None if planned is None or keep is None else round(planned * keep)
    rollouts = None if problems is None else problems * config.sample.n
    mean_p, mean_c = _per(prompt, len(rollout_rows)), _per(completion, len(rollout_rows))
    price = config.cost.teacher
    out: dict = {
        "sample": {"problems": asked, "sampled": sampled, "rollouts": len(rollout_rows), "prompt_tokens": prompt,
                   "completion_tokens": completion, "stage_s": stage_s,
                   "rejected_before_sampling": manifest.get("funnel", {}).get("rejected", {})},
        "plan": {"problems": planned, "sampled_share": keep, "problems_sampled": problems, "rollouts": rollouts},
        "mean_per_rollout": {"prompt_tokens": mean_p, "completion_tokens": mean_c},
        "currency": config.cost.currency,
    }
    if rollouts is not None and mean_p is not None and mean_c is not None:
        tokens_p, tokens_c = round(rollouts * mean_p), round(rollouts * mean_c)
        out["estimate"] = {
            "prompt_tokens": tokens_p, "completion_tokens": tokens_c,
            "amount": round((tokens_p * price.prompt_per_million + tokens_c * price.completion_per_million) / 1e6, 4)
            if price.is_set else None,
            "sample_stage_s": round(stage_s / sampled * problems, 1) if sampled else None,
        }
    return out


def format_estimate(found: dict) -> str:
    s, plan = found["sample"], found["plan"]
    lines = [f"estimate from {s['problems']} problems ({s['sampled']} sampled, {s['rollouts']} rollouts, "
             f"{s['prompt_tokens']:,} prompt + {s['completion_tokens']:,} completion tokens, {s['stage_s']:.1f} s):"]
    if "estimate" not in found:
        lines.append("  the whole plan: unknown (a source can't tell its size, or nothing was sampled)")
        return "\n".join(lines)
    e = found["estimate"]
    amount = ("unknown (no prices set: cost.teacher)" if e["amount"] is None
              else f"{e['amount']:,.4f} {found['currency']}")
    lines += [f"  the whole plan: {plan['problems']:,} problems, {plan['problems_sampled']:,} sampled after curation "
              f"({plan['rollouts']:,} rollouts)",
              f"  tokens: {e['prompt_tokens']:,} prompt + {e['completion_tokens']:,} completion",
              f"  cost:   {amount}",
              f"  time:   about {e['sample_stage_s']:,.0f} s of sampling at this sample's rate"]
    return "\n".join(lines)


def run(config: RunConfig, out_dir: str, beam_args: List[str], problems: int) -> dict:
    """Sample about ``problems`` problems into OUT/estimate and write OUT/estimate.json."""
    if problems < 1:
        raise ValueError(f"--estimate-cost: expected a number of problems >= 1, got {problems}")
    planned = planned_records(config.sources)
    sample_dir = rio.join(out_dir, FOLDER)
    sample.run(sampled_config(config, problems), sample_dir, beam_args)
    manifest = load_stage_manifest(sample_dir, "sample")  # the file paths made absolute
    rows = rio.read_columns([f["path"] for f in manifest["outputs"]["rollouts"]["files"]],
                            ["prompt_tokens", "completion_tokens"])
    found = estimate(config, manifest, rows, planned)
    with open(rio.join(out_dir, FILE), "w", encoding="utf-8") as fh:
        json.dump(found, fh, indent=2, sort_keys=True)
    return found
