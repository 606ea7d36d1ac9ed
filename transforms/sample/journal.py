"""The resume journal: rollouts persisted as they arrive, reused by the next run.

With a streaming backend (the server client) and a local ``journal_dir`` the sample
handler appends each new rollout, the moment
its sample arrives, as one JSON line to ``journal_dir/stream-<hash>.jsonl``
(:class:`JournalStream`, one file per model call, flushed line by line), so a
``kill -9`` loses only the samples in flight. Otherwise (the in-process backends,
whose samples all arrive when the batch returns; ``gs://``, no appends) every
model batch's new rollouts are written to ``journal_dir/chunk-<hash of their ids>.parquet``
(temporary name, then rename) before they are returned. :func:`compact_journal` turns
the stream files into chunks (a torn last line of a killed writer is skipped); the
sample stage runs it before and after its pipeline, so a finished journal holds chunks
only. A later run lists the finished chunks (:func:`list_journal`), reads them, joins
them to the problems by problem id (:func:`tasks_from_join`) and generates only the
sample indexes whose rollout ids are missing. Which problems share a batch, their
order and the bundle boundaries don't matter: the join is by key and the check by id.
"""
from __future__ import annotations

import glob
import json
import logging
import os
import typing
from typing import Iterable, List, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

from schemas.records import Problem, Rollout, from_dict, to_dict
from transforms.core import io as rio
from transforms.core import stable_hash

#: File names of the journal's chunks (one per model batch) under ``journal_dir``.
JOURNAL_PATTERN = "chunk-*.parquet"
#: File names of the rollouts streamed as they arrived, not yet compacted into chunks.
STREAM_PATTERN = "stream-*.jsonl"

logger = logging.getLogger(__name__)


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


def streams_to(journal_dir: Optional[str]) -> bool:
    """Whether rollouts are journaled as they arrive there (a local folder: appends work)."""
    return bool(journal_dir) and "://" not in str(journal_dir)


class JournalStream:
    """Appends rollouts to ``journal_dir/stream-<hash of key>.jsonl``, one flushed JSON line each
    (a whole line in one ``write``: a killed process leaves at most a torn last line)."""

    def __init__(self, journal_dir: str, key: str):
        os.makedirs(journal_dir, exist_ok=True)
        self.path = os.path.join(journal_dir, f"stream-{stable_hash(key, os.getpid())}.jsonl")
        self._fh = open(self.path, "a", encoding="utf-8")
        self.written = 0

    def write(self, rollout: Rollout) -> None:
        self._fh.write(json.dumps(to_dict(rollout), ensure_ascii=False) + "\n")
        self._fh.flush()
        self.written += 1

    def close(self) -> None:
        self._fh.close()
        if not self.written:
            os.remove(self.path)


def read_stream(path: str) -> List[Rollout]:
    """The rollouts of a stream file; lines that don't parse (a torn last line) are skipped."""
    rollouts = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            try:
                rollouts.append(from_dict(Rollout, json.loads(line)))
            except (ValueError, TypeError) as exc:
                logger.warning("journal: %s:%d skipped (%s): a writer killed mid-line", path, number,
                               type(exc).__name__)
    return rollouts


def compact_journal(journal_dir: str) -> List[str]:
    """Turn every stream file of a local journal into a chunk (deduplicated by id) and
    remove it; returns the chunks written. Run it while no sampler writes there."""
    if not streams_to(journal_dir):
        return []
    written = []
    for path in sorted(glob.glob(os.path.join(journal_dir, STREAM_PATTERN))):
        rollouts = list({r.rollout_id: r for r in read_stream(path)}.values())
        chunk = persist_chunk(journal_dir, rollouts)
        if chunk:
            written.append(chunk)
        os.remove(path)
    return written
