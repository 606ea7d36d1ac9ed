"""Verify a rollouts file made elsewhere, line by line, outside Beam: what
``reasoning-corpus verify --input ROLLOUTS --output VERDICTS.jsonl`` runs
(``pipelines/verify.py`` is its launcher). Rows are JSONL or Parquet with
``prompt``, ``response`` and optionally ``problem_id``, ``domain``,
``reference_answer``, ``choices``, ``tests``; see :func:`transforms.verify.rows.rollout_from_row`.

The output has one line per input line, in input order: the input row's fields
plus ``verdict``, ``extracted_answer``, ``verifier``, ``verifier_version``,
``reason`` and ``pass_rate`` (correct / n over the rows of the same problem). A
line that isn't a usable JSON object (invalid JSON, nested too deep, a lone
surrogate in any string, a truncated compressed file's last partial line, a
corrupt Parquet row group's rows: see ``transforms.core.readers``) gets
``verdict: error``, the reason and its line number (``input_line``); a file
that can't be read at all is an error naming it before anything is verified.

It runs directly, not on Beam (the order of the lines is the contract), and
streams: the first pass verifies chunks of rows (``workers`` threads, each with
its own math-verify child and sandbox) and writes them to a temporary file while
counting per problem; the second pass adds the pass rates and the majority vote
(when configured) and writes the output, which appears only when complete. Memory
holds the per-problem counts and ``2 × workers`` chunks, whatever the file's size.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import json
import os
import tempfile
import threading
import time
import typing
from typing import Dict, Iterator, List, Optional, Tuple

from transforms.core.io import read_records
from transforms.core.readers import check_readable
from transforms.verify.batch import Verifiers, verify_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import is_code
from transforms.verify.judge import LLMJudge
from transforms.verify.majority import MAJORITY_VERSION, vote, voted_verdict
from transforms.verify.matching.keys import answer_key
from transforms.verify.rows import rollout_from_row, verdict_row

CHUNK_ROWS = 64


@dataclasses.dataclass
class _Tally:
    """What the second pass needs to know about one problem."""

    n: int = 0
    correct: int = 0
    votable: bool = True  # every row so far: no reference, not code
    votes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    shown: Dict[str, str] = dataclasses.field(default_factory=dict)  # answer key → first answer with it


def read_rows(path: str) -> Iterator[Tuple[int, Optional[dict], Optional[str]]]:
    """(line number, row or None, error or None) for every line (JSONL) or row (Parquet):
    a blank line too gets its answer, so the output has one line per input line."""
    return read_records(path, skip_blank=False)


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Result(typing.NamedTuple):
    row: dict  # the output row (pass rate still 0)
    problem_id: Optional[str] = None  # None for lines that aren't rows
    key: Optional[str] = None  # the answer's vote key
    code: bool = False


class _Pool:
    """Threads that verify chunks, each thread with its own Verifiers (the judge shared)."""

    def __init__(self, config: VerifyConfig, workers: int, fields: Optional[Dict[str, str]] = None):
        self.config = config
        self.fields = fields or {}
        self._judge = LLMJudge(config.judge) if config.judge.enabled else None  # one model for all threads
        self._local = threading.local()
        self._all: List[Verifiers] = []
        self._lock = threading.Lock()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)

    def _verifiers(self) -> Verifiers:
        if not hasattr(self._local, "verifiers"):
            self._local.verifiers = Verifiers(self.config, judge=self._judge)
            with self._lock:
                self._all.append(self._local.verifiers)
        return self._local.verifiers

    def verify_chunk(self, chunk: list) -> List["_Result"]:
        """One _Result per (line number, row, error) of the chunk, in order."""
        parsed = []
        for number, row, error in chunk:
            rollout = None
            if row is not None:
                try:
                    rollout = rollout_from_row(row, self.fields)
                except (TypeError, ValueError) as exc:
                    error = f"invalid_row: {exc}"
            parsed.append((number, row, rollout, error))
        todo = [rollout for _, _, rollout, _ in parsed if rollout is not None]
        outcomes = iter(verify_batch(todo, self._verifiers(), self.config))
        results = []
        for number, row, rollout, error in parsed:
            if rollout is None:
                results.append(_Result(verdict_row(row if row is not None else {"input_line": number}, None, error)))
                continue
            outcome = next(outcomes)
            out = verdict_row(row, outcome.fields, outcome.error)
            if outcome.error is not None:  # the stage would dead-letter it: not one of the problem's n
                results.append(_Result(out))
                continue
            code = is_code(rollout)
            key = answer_key(out["extracted_answer"]) if out["extracted_answer"] and not code else None
            results.append(_Result(out, rollout.problem_id, key, code))
        return results

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        for verifiers in self._all:
            verifiers.close()


def _ordered(pool: _Pool, chunks: Iterator[list], window: int) -> Iterator[list]:
    """Results of ``pool.verify_chunk`` over ``chunks``, in order, at most ``window`` in flight."""
    pending: typing.Deque[concurrent.futures.Future] = collections.deque()
    for chunk in chunks:
        pending.append(pool.executor.submit(pool.verify_chunk, chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _count(tallies: Dict[str, _Tally], result: _Result) -> None:
    if result.problem_id is None:
        return
    tally = tallies.setdefault(result.problem_id, _Tally())
    tally.n += 1
    tally.correct += result.row["verdict"] == "correct"
    tally.votable &= result.row["reason"] == "no_reference_answer" and not result.code
    if result.key is not None:
        tally.votes[result.key] += 1
        tally.shown.setdefault(result.key, result.row["extracted_answer"])


def _finish(row: dict, problem_id: Optional[str], key: Optional[str], tallies: Dict[str, _Tally],
            votes: Dict[str, Tuple[Optional[str], str, float]], config: VerifyConfig) -> dict:
    """The row with its pass rate and, for a votable problem, the majority verdict."""
    if problem_id is None:  # no problem, nothing tallied
        return row
    tally = tallies.get(problem_id)
    if tally is None:
        return row
    if config.majority_vote and tally.votable:
        if problem_id not in votes:
            label, reason = vote(tally.votes, tally.n, config)
            if label is not None:
                reason = f"{reason} on {tally.shown[label]!r}"
            votes[problem_id] = (label, reason, (tally.votes[label] / tally.n) if label else 0.0)
        label, reason, rate = votes[problem_id]
        row.update(verdict=voted_verdict(key, label), verifier="majority-vote", verifier_version=MAJORITY_VERSION,
                   reason=reason, pass_rate=rate)
        return row
    row["pass_rate"] = tally.correct / tally.n
    return row


def verify_file(input_path: str, output_path: str, config: VerifyConfig = VerifyConfig(), workers: int = 1,
                chunk_rows: int = CHUNK_ROWS, fields: Optional[Dict[str, str]] = None) -> dict:
    """Verify every row of ``input_path`` into ``output_path``; a summary of the verdicts.
    ``fields``: the file's own names of row fields (``{"response": "code"}``)."""
    if not os.path.exists(input_path):
        raise FileNotFoundError(f"--input: {input_path} not found")
    if workers < 1:
        raise ValueError("--workers: must be >= 1")
    check_readable("parquet" if input_path.endswith(".parquet") else "jsonl", input_path)  # before any model
    started = time.monotonic()
    out_dir = os.path.dirname(os.path.abspath(output_path))
    os.makedirs(out_dir, exist_ok=True)
    tallies: Dict[str, _Tally] = {}
    verdicts: collections.Counter = collections.Counter()
    pool = _Pool(config, workers, fields)
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=out_dir) as first:
        try:
            for results in _ordered(pool, _chunks(read_rows(input_path), chunk_rows), 2 * workers):
                for result in results:
                    _count(tallies, result)
                    first.write(json.dumps([result.problem_id, result.key, result.row], ensure_ascii=False,
                                           default=str) + "\n")
        finally:
            pool.close()
        first.seek(0)
        partial = output_path + ".partial"
        votes: Dict[str, Tuple[Optional[str], str, float]] = {}
        with open(partial, "w", encoding="utf-8") as out:
            for line in first:
                problem_id, key, row = json.loads(line)
                row = _finish(row, problem_id, key, tallies, votes, config)
                verdicts[row["verdict"]] += 1
                out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        os.replace(partial, output_path)
    return {"rows": sum(verdicts.values()), "problems": len(tallies), "verdicts": dict(sorted(verdicts.items())),
            "seconds": round(time.monotonic() - started, 3), "output": output_path}


def format_summary(summary: dict) -> str:
    verdicts = ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items())
    return (f"verified {summary['rows']} rows ({summary['problems']} problems) in {summary['seconds']:.1f}s: "
            f"{verdicts or 'nothing'} → {summary['output']}")
