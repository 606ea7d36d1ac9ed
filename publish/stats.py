"""The corpus statistics the mix manifest stores (``stats``, ``examples``) for the card.

:func:`corpus_stats` reads the written corpus (a few columns) on the launcher and
returns what the mix manifest stores under ``stats``: token-length histograms per
series (kind, and ``reasoning/journey`` for journey examples), pass-rate distributions
(all verified problems, and the problems in the corpus) and verifier agreement. The
statistics of all verified rollouts come aggregated from the curate stage (its
manifest's ``verified_stats``, see :mod:`publish.verified`): no rejected rollout is read back.

:func:`example_rows` picks a few examples for the card (their ``messages``, each turn
cut to a length), deterministically: the shards are sorted by example id, and the
first example of each series comes first.
"""
from __future__ import annotations

import bisect
import io
import statistics
from typing import Dict, Iterable, Iterator, List, Optional

from apache_beam.io.filesystems import FileSystems

#: Lower edges of the token-length bins (the last bin is open-ended).
TOKEN_EDGES = (0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
#: Pass-rate bins: [0, 0.1), [0.1, 0.2), …, [0.9, 1.0].
PASS_BINS = 10
DISAGREEMENT_EXAMPLES = 5
#: At most this many rows are read to pick the card's examples.
EXAMPLE_SCAN_ROWS = 1000
#: What ends a turn cut short in the card's examples.
ELLIPSIS = " […]"


def read_columns(paths: Iterable[str], columns: List[str]) -> Iterator[dict]:
    """Rows of ``columns`` of Parquet files, as dicts."""
    import pyarrow.parquet as pq

    for path in paths:
        with FileSystems.open(path) as fh:
            table = pq.read_table(io.BytesIO(fh.read()), columns=columns)
        yield from table.to_pylist()


def histogram(values: Iterable[float], edges) -> List[int]:
    """Counts per bin ``[edges[i], edges[i+1])``; the last bin is ``>= edges[-1]``."""
    counts = [0] * len(edges)
    for value in values:
        counts[max(bisect.bisect_right(edges, value) - 1, 0)] += 1
    return counts


def pass_bin(rate: float) -> int:
    return min(int(rate * PASS_BINS + 1e-9), PASS_BINS - 1)


def pass_histogram(rates: Iterable[float]) -> List[int]:
    counts = [0] * PASS_BINS
    for rate in rates:
        counts[pass_bin(rate)] += 1
    return counts


def pass_bin_labels() -> List[str]:
    labels = [f"[{i / PASS_BINS:.1f}, {(i + 1) / PASS_BINS:.1f})" for i in range(PASS_BINS)]
    labels[-1] = labels[-1][:-1] + "]"
    return labels


def token_bin_labels() -> List[str]:
    return [f"{lo}-{hi - 1}" for lo, hi in zip(TOKEN_EDGES, TOKEN_EDGES[1:])] + [f">={TOKEN_EDGES[-1]}"]


def series_of(row: dict) -> str:
    """The token-length series of an example: its kind, plus "/journey" for journey examples."""
    return row["kind"] + ("/journey" if row.get("journey") else "")


def summary(values: List[int]) -> dict:
    return {"n": len(values), "min": min(values), "median": statistics.median(values),
            "mean": round(statistics.fmean(values), 1), "max": max(values)}


def token_stats(examples: List[dict]) -> dict:
    by_series: Dict[str, List[int]] = {}
    for row in examples:
        by_series.setdefault(series_of(row), []).append(row["completion_tokens"])
    return {
        "field": "completion_tokens",
        "bins": token_bin_labels(),
        "counts": {s: histogram(v, TOKEN_EDGES) for s, v in sorted(by_series.items())},
        "summary": {s: summary(v) for s, v in sorted(by_series.items())},
    }


def corpus_stats(data_files: List[str], verified: dict) -> dict:
    """What the card plots and tabulates beyond the counts: see the module docstring.

    ``verified``: the curate stage's statistics of all verified rollouts
    (:func:`publish.verified.verified_stats`, stored in the curate manifest)."""
    examples = list(read_columns(data_files, ["kind", "journey", "problem_id", "completion_tokens",
                                              "pass_rate"]))
    corpus_rates = {r["problem_id"]: r["pass_rate"] for r in examples}
    return {
        "token_lengths": token_stats(examples),
        "pass_rates": {
            "bins": pass_bin_labels(),
            "counts": {"all problems": list(verified["pass_rates"]),
                       "corpus problems": pass_histogram(corpus_rates.values())},
        },
        "verifier_agreement": verified["verifier_agreement"],
    }


# -- example rows for the card -------------------------------------------------------------


def truncate(text: str, chars: int) -> str:
    """``text`` cut to at most ``chars`` characters (the cut marked with ``ELLIPSIS``)."""
    if len(text) <= chars:
        return text
    return text[:max(chars - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def _scan(data_files: List[str], columns: List[str], limit: int) -> Iterator[dict]:
    """At most ``limit`` rows of ``columns``, in shard order, read batch by batch."""
    import pyarrow.parquet as pq

    seen = 0
    for path in sorted(data_files):
        with FileSystems.open(path) as fh:
            parquet = pq.ParquetFile(io.BytesIO(fh.read()))
        for batch in parquet.iter_batches(batch_size=64, columns=columns):
            for row in batch.to_pylist():
                if seen >= limit:
                    return
                seen += 1
                yield row


def example_rows(data_files: List[str], count: int, chars: int) -> List[dict]:
    """Up to ``count`` examples for the card: ``{example_id, kind, journey, messages}``
    with each turn's content cut to ``chars`` characters. The first example of each
    series (kind, journey or not) in shard order comes first, then the next ones."""
    if count <= 0:
        return []
    rows = list(_scan(data_files, ["example_id", "kind", "journey", "messages"], EXAMPLE_SCAN_ROWS))
    firsts, seen = [], set()
    for i, row in enumerate(rows):
        if series_of(row) not in seen:
            seen.add(series_of(row))
            firsts.append(i)
    first = set(firsts)
    order = firsts + [i for i in range(len(rows)) if i not in first]
    return [{"example_id": rows[i]["example_id"], "kind": rows[i]["kind"], "journey": rows[i]["journey"],
             "messages": [{"role": m["role"], "content": truncate(m["content"], chars)}
                          for m in rows[i]["messages"]]}
            for i in order[:count]]


#: The steps of issue #15 that shorten the corpus's thinking, in the order the card lists them.
SAVING_STEPS = ("prune", "no_cot", "length_cap", "selection")
#: The counters the launcher's tokens saved by length caps and selection come from (the
#: rejected examples are never read back).
SAVING_COUNTERS = {"length_cap": "mix.length_cap.tokens_rejected", "selection": "mix.select_per_prompt.tokens_saved"}
#: Keys of the manifest's ``thinking`` beside its lines per kind.
THINKING_EXTRA = ("saved", "by_pass_rate")


def is_no_cot_row(row: dict) -> bool:
    """A no-chain-of-thought example (``mix.no_cot``): thinking as sampled, none kept."""
    return row["reasoning_tokens_after"] == 0 < row["reasoning_tokens_before"]


def thinking_lengths(data_files: List[str], counters: Optional[Dict[str, int]] = None) -> dict:
    """Estimated thinking tokens of the corpus as sampled and as kept.

    Per kind: the examples, how many were cut (``pruned``, ``mix.prune``) or left without
    thinking (``no_cot``, ``mix.no_cot``), both totals and the share saved. ``saved``: the
    tokens each step saved — ``prune`` and ``no_cot`` from the rows (before − after), and
    from the pipeline's counters ``length_cap`` (the thinking of the examples it
    rejected) and ``selection`` (a random pick's thinking minus the policy's, per
    problem). ``by_pass_rate``: mean thinking tokens of the reasoning examples before and
    after, per pass-rate bin of their problem (the card's plot)."""
    out: Dict[str, dict] = {}
    saved = {step: 0 for step in SAVING_STEPS}
    bins = [[0, 0, 0] for _ in range(PASS_BINS)]  # examples, tokens before, tokens after
    for row in read_columns(data_files, ["kind", "reasoning_tokens_before", "reasoning_tokens_after", "pass_rate"]):
        line = out.setdefault(row["kind"], {"examples": 0, "pruned": 0, "no_cot": 0, "tokens_before": 0,
                                            "tokens_after": 0})
        before, after = row["reasoning_tokens_before"], row["reasoning_tokens_after"]
        line["examples"] += 1
        no_cot = is_no_cot_row(row)
        line["no_cot"] += no_cot
        line["pruned"] += not no_cot and after < before
        line["tokens_before"] += before
        line["tokens_after"] += after
        saved["no_cot" if no_cot else "prune"] += before - after
        if row["kind"] == "reasoning":
            entry = bins[pass_bin(row["pass_rate"] or 0.0)]
            entry[0], entry[1], entry[2] = entry[0] + 1, entry[1] + before, entry[2] + after
    for line in out.values():
        before = line["tokens_before"]
        line["saved_share"] = round(1 - line["tokens_after"] / before, 4) if before else 0.0
    for step, counter in SAVING_COUNTERS.items():
        saved[step] = int((counters or {}).get(counter, 0))
    result: Dict[str, dict] = dict(sorted(out.items()))
    result["saved"] = saved
    result["by_pass_rate"] = {
        "bins": pass_bin_labels(),
        "examples": [n for n, _, _ in bins],
        "mean_before": [round(b / n, 1) if n else 0.0 for n, b, _ in bins],
        "mean_after": [round(a / n, 1) if n else 0.0 for n, _, a in bins],
    }
    return result


def thinking_kinds(thinking: Optional[dict]) -> Dict[str, dict]:
    """The lines per kind of the manifest's ``thinking``."""
    return {k: v for k, v in (thinking or {}).items() if k not in THINKING_EXTRA}
