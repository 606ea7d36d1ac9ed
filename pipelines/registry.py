"""The launchers' side of the corpus registry (:mod:`publish.registry`).

What each stage takes from ``registry.path`` before it runs, and what the mix stage
puts there after its manifest:

* **sample** reads every registered run's rollout journal (``reuse_rollouts``): the
  rollouts whose ids it expects are reused, and the teacher is asked only for the rest
  (loaded only if there is any, see :mod:`transforms.models.lazy`); with
  ``new_sources_only`` the problems a registered run sampled are rejected first
  (step ``new_sources_only``, reason ``seen_before``).
* **curate** adds every registered corpus's signature index to its prompt dedup
  (``dedup``): a prompt already published is a duplicate of a published node, which
  always survives, so it is rejected (step ``dedup_prompts``).
* **mix** writes the signature index of its corpus (step ``WriteSignatureIndex``,
  ``mix/signatures-*``), says in its manifest what the registry saved (``registry``),
  and once its manifest is written registers the run: the signatures, the sample
  journal's chunks, the manifest (last); then compacts the registry when
  ``compact_after`` runs are outside its compaction.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import List, Optional, Sequence

import apache_beam as beam

from pipelines.config import RunConfig
from publish import registry as reg
from publish.manifest import load_stage_manifest
from schemas.records import Problem
from transforms.core import Drop, RuleStep
from transforms.core import io as rio
from transforms.dedup.config import DedupConfig
from transforms.dedup.index import WriteSignatureIndex
from transforms.sample.journal import list_journal

#: The mix stage's signature index of its corpus (``mix/signatures-*.parquet``).
SIGNATURES = "mix/signatures"
#: How a prompt-dedup rejection says its survivor is a published node (transforms.dedup.survivor).
PUBLISHED_SURVIVOR = "survivor_published=true"


def _on(config: RunConfig) -> bool:
    return config.registry.enabled


def reused_journal(config: RunConfig) -> List[str]:
    """The registry's journal files a sample run reuses rollouts from ([] when off)."""
    if not _on(config) or not config.registry.reuse_rollouts:
        return []
    return reg.journal_files(config.registry.path)


def seen_problems(config: RunConfig) -> Optional[List[str]]:
    """With ``new_sources_only``: the problem ids registered runs sampled; else None."""
    if not _on(config) or not config.registry.new_sources_only:
        return None
    return sorted(reg.sampled_problem_ids(config.registry.path))


def _skip_seen(problem: Problem, seen: dict):
    if problem.problem_id in seen:
        return Drop("seen_before", "a registered run sampled this problem (registry.new_sources_only)")
    return problem


def skip_seen(pipeline, problems, seen: Sequence[str], config_hash: str):
    """Problems → StageOutputs: those a registered run sampled rejected (``seen_before``)."""
    ids = pipeline | "SeenProblems" >> beam.Create([(pid, True) for pid in seen])
    return problems | "NewSourcesOnly" >> RuleStep("sample", "new_sources_only", _skip_seen,
                                                   beam.pvalue.AsDict(ids), output_type=Problem)


def sample_entry(config: RunConfig, journal_files: int, seen: Optional[Sequence[str]]) -> dict:
    """The sample manifest's ``registry`` entry ({} when off)."""
    if not _on(config):
        return {}
    return {"registry": {"path": config.registry.path, "journal_files_read": journal_files,
                         "problems_seen_before": None if seen is None else len(seen)}}


def curate_dedup(config: RunConfig) -> DedupConfig:
    """Curate's dedup config with the registry's signature indexes added (``dedup``)."""
    dedup = config.curate.dedup
    if not _on(config) or not config.registry.dedup or not dedup.prompts:
        return dedup
    return dataclasses.replace(dedup, index_paths=dedup.index_paths + tuple(reg.signature_files(config.registry.path)))


def curate_entry(config: RunConfig, dedup: DedupConfig) -> dict:
    if not _on(config):
        return {}
    return {"registry": {"path": config.registry.path,
                         "signature_files_read": len(dedup.index_paths) - len(config.curate.dedup.index_paths)}}


class PromptOf(typing.NamedTuple):
    """What a signature index needs of an example (``WriteSignatureIndex`` reads ``prompt``)."""

    problem_id: str
    prompt: str
    source: str
    verdict: str


def _prompt_of(example) -> PromptOf:
    return PromptOf(example.problem_id, example.problem, example.source, example.verdict)


def write_signatures(examples, config: RunConfig, out_dir: str) -> None:
    """The corpus's signature index (``mix/signatures-*``), when a registry is set."""
    if not _on(config):
        return
    _ = (examples
         | "SignatureRows" >> beam.Map(_prompt_of)
         | "WriteSignatureIndex" >> WriteSignatureIndex(rio.join(out_dir, SIGNATURES), config.curate.dedup))


def clear_signatures(out_dir: str) -> None:
    stale = _signature_files(out_dir)
    if stale:
        from apache_beam.io.filesystems import FileSystems

        FileSystems.delete(stale)


def _signature_files(out_dir: str) -> List[str]:
    from apache_beam.io.filesystems import FileSystems

    try:
        return sorted(m.path for m in FileSystems.match([rio.join(out_dir, SIGNATURES) + "-*.parquet"])[0]
                      .metadata_list)
    except Exception:  # noqa: BLE001 - none
        return []


def mix_entry(config: RunConfig, sample_dir: Optional[str], curate: dict, data_files: List[str],
              funnel: dict) -> dict:
    """The mix manifest's ``registry`` entry: what the registry saved this run ({} when off).

    ``already_published``: rows of this corpus whose problem a registered corpus holds (0
    unless dedup is off); ``removed_as_published``: rollouts curate rejected as duplicates
    of a registered prompt; ``rollouts_reused``/``rollouts_generated``/``teacher_loads``:
    the sample stage's; ``nothing_new``: the corpus is empty because everything was
    registered already."""
    if not _on(config):
        return {}
    sample = load_stage_manifest(sample_dir, "sample") if sample_dir else {}
    resume = sample.get("resume", {})
    rejection_rows = rio.read_columns([f["path"] for f in curate["outputs"]["rejections"]["files"]],
                                      ["step", "detail"])
    published = reg.published_problem_ids(config.registry.path)
    rows = rio.read_columns(data_files, ["problem_id"])
    removed = sum(1 for r in rejection_rows
                  if r["step"] == "dedup_prompts" and PUBLISHED_SURVIVOR in (r["detail"] or ""))
    seen = funnel.get("rejected", {}).get("sample/new_sources_only/seen_before", 0)
    entry = {
        "path": config.registry.path,
        "runs_read": len(reg.registered_runs(config.registry.path)),
        "rows": len(rows),
        "already_published": sum(1 for r in rows if r["problem_id"] in published),
        "removed_as_published": removed,
        "problems_seen_before": seen,
        "rollouts_reused": resume.get("rollouts_reused"),
        "rollouts_generated": resume.get("rollouts_generated"),
        "teacher_loads": resume.get("teacher_loads"),
    }
    # nothing new: no rollout generated now (all reused, or every problem seen before)
    entry["nothing_new"] = (not rows and resume.get("rollouts_generated") == 0
                            and bool(resume.get("rollouts_reused") or seen))
    return {"registry": entry}


def register(config: RunConfig, out_dir: str, manifest: dict, sample_dir: Optional[str]) -> Optional[dict]:
    """After the mix manifest: register the run (signatures, journal chunks, manifest last),
    then compact when due. Returns ``{"key", "compacted"}`` or None when no registry is set."""
    if not _on(config):
        return None
    entry = manifest.get("registry") or {}
    if not manifest.get("rows") and not entry.get("nothing_new"):  # an empty corpus is a failed run
        return None
    journal = list_journal(rio.join(sample_dir, "journal")) if sample_dir else []
    path = config.registry.path
    key = reg.register(path, rio.join(out_dir, rio.MANIFEST), _signature_files(out_dir), journal)
    every = config.registry.compact_after
    compacted = reg.compact(path, min_runs=every) if every else None
    return {"key": key, "compacted": compacted}


def format_entry(entry: Optional[dict]) -> Optional[str]:
    """The summary's registry line."""
    if not entry:
        return None
    line = (f"  registry: {entry['runs_read']} run(s) read; {entry['rollouts_reused'] or 0} rollouts reused, "
            f"{entry['rollouts_generated'] or 0} generated (teacher loaded {entry['teacher_loads'] or 0}x); "
            f"{entry['removed_as_published']} rollouts removed as already published, "
            f"{entry['problems_seen_before']} problems seen before; "
            f"{entry['already_published']} of {entry['rows']} rows already published")
    return line + ("; nothing new to publish" if entry["nothing_new"] else "")
