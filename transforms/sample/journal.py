"""The resume journal: rollouts persisted per model batch, reused by the next run.

With a ``journal_dir`` the sample handler writes every model batch's new rollouts to
``journal_dir/chunk-<hash of their ids>.parquet`` (temporary name, then rename) before
returning them. A later run lists the finished chunks (:func:`list_journal`), reads
them, joins them to the problems by problem id (:func:`tasks_from_join`) and generates
only the sample indexes whose rollout ids are missing. Which problems share a batch,
their order and the bundle boundaries don't matter: the join is by key and the check
by id.
"""
from __future__ import annotations

import typing
from typing import Iterable, List, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from schemas.records import Problem, Rollout, to_dict
from transforms.core import io as rio
from transforms.core import stable_hash

#: File names of the journal's chunks (one per model batch) under ``journal_dir``.
JOURNAL_PATTERN = "chunk-*.parquet"


class SampleTask(typing.NamedTuple):
    """A problem and the rollouts of it already persisted (by any earlier run)."""

    problem: Problem
    done: List[Rollout]
    #: the sample indexes asked for (empty: 0..n-1; adaptive rounds ask a range of them)
    indices: Tuple[int, ...] = ()


def as_task(item) -> SampleTask:
    """A SampleTask from a task or a bare Problem (nothing done yet)."""
    return item if isinstance(item, SampleTask) else SampleTask(item, [])


def journal_chunk_path(journal_dir: str, rollouts: Sequence[Rollout]) -> str:
    """A chunk's file name: a hash of its rollout ids (a retried batch rewrites the same file)."""
    return rio.join(journal_dir, f"chunk-{stable_hash(*sorted(r.rollout_id for r in rollouts))}.parquet")


def persist_chunk(journal_dir: str, rollouts: Sequence[Rollout]) -> Optional[str]:
    """Write rollouts as one journal chunk (temporary name, then rename); return its path."""
    if not rollouts:
        return None
    path = journal_chunk_path(journal_dir, rollouts)
    rio.write_table(path, [to_dict(r) for r in sorted(rollouts, key=lambda r: r.rollout_id)], Rollout)
    return path


def list_journal(journal_dir: str) -> List[str]:
    """The finished chunk files of a journal (temporary files of killed writers never match)."""
    try:
        result = FileSystems.match([rio.join(journal_dir, JOURNAL_PATTERN)])[0]
    except Exception:  # noqa: BLE001 - no journal yet
        return []
    return sorted(m.path for m in result.metadata_list)


def tasks_from_join(element) -> Iterable[SampleTask]:
    """``(problem_id, {"problems": [...], "done": [...]})`` → a SampleTask per problem,
    with the persisted rollouts deduplicated by id (a retried batch may have
    written a chunk twice)."""
    _, groups = element
    done = sorted({r.rollout_id: r for r in groups["done"]}.values(), key=lambda r: r.rollout_id)
    for problem in groups["problems"]:
        yield SampleTask(problem, done)
