"""Statistics of every verified rollout of a curate run, for the dataset card: the pass
rates of all problems and verifier agreement.

The verified rollouts are the curate stage's curated rows and its rejected
VerifiedRollouts. Reading the rejected ones back on the launcher would be a
single-machine pass over every rejection's payload, so the curate pipeline aggregates
them itself (:class:`VerifiedStats`) and its launcher stores the small result in the
curate manifest under ``verified_stats``; the mix stage's card reads it from there.
:func:`verified_stats` computes the same from rows in memory (tests, small reports).

Verifier agreement: verified rollouts are grouped by (problem, normalized extracted
answer); the same answer to the same problem must get the same verdict whichever
path decided it (exact, math-verify, countdown, a timeout). The share of groups of
two or more rollouts with a single verdict is the agreement rate; the verdict counts
per verifier come with it.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam

from publish.stats import DISAGREEMENT_EXAMPLES, pass_bin, pass_histogram
from transforms.verify.matching.numbers import normalize_answer_text

VERIFIED_COLUMNS = ["problem_id", "verifier", "verdict", "extracted_answer", "pass_rate"]


def verified_row(record) -> dict:
    """The ``VERIFIED_COLUMNS`` of a VerifiedRollout."""
    return {k: getattr(record, k) for k in VERIFIED_COLUMNS}


def answer_key(row: dict) -> Optional[Tuple[str, str]]:
    """(problem, normalized answer) of a row; None without an extracted answer."""
    if row["extracted_answer"] is None:
        return None
    return row["problem_id"], normalize_answer_text(row["extracted_answer"])


def verifier_of(row: dict) -> str:
    return row["verifier"] or "none"


def summarize_agreement(verdict_counts: Iterable[Tuple[Tuple[str, str], int]], groups: int, agreeing: int,
                        disagreements: Iterable[Tuple[Tuple[str, str], List[str]]]) -> dict:
    """The agreement entry of the card from ((verifier, verdict), count) pairs, the number of
    groups of two or more equal answers, how many of them agree, and the first
    disagreeing groups ((problem, answer), sorted verdicts) in key order."""
    verdicts: Dict[str, Dict[str, int]] = {}
    for (verifier, verdict), n in verdict_counts:
        verdicts.setdefault(verifier, {})[verdict] = n
    first = sorted((tuple(key), list(v)) for key, v in disagreements)[:DISAGREEMENT_EXAMPLES]
    return {
        "verdicts": {v: dict(sorted(c.items())) for v, c in sorted(verdicts.items())},
        "groups": groups,
        "agreeing": agreeing,
        "rate": round(agreeing / groups, 4) if groups else None,
        "disagreements": [{"problem_id": k[0], "answer": k[1], "verdicts": v} for k, v in first],
    }


def verifier_agreement(rows: Iterable[dict]) -> dict:
    """Verdict counts per verifier and the agreement of verdicts on equal answers."""
    counts: Dict[Tuple[str, str], int] = {}
    groups: Dict[tuple, set] = {}
    sizes: Dict[tuple, int] = {}
    for row in rows:
        pair = (verifier_of(row), row["verdict"])
        counts[pair] = counts.get(pair, 0) + 1
        key = answer_key(row)
        if key is None:
            continue
        groups.setdefault(key, set()).add(row["verdict"])
        sizes[key] = sizes.get(key, 0) + 1
    multi = [k for k, n in sizes.items() if n >= 2]
    agreeing = sum(len(groups[k]) == 1 for k in multi)
    disagreements = [(k, sorted(groups[k])) for k in multi if len(groups[k]) > 1]
    return summarize_agreement(counts.items(), len(multi), agreeing, disagreements)


def pass_rates_by_problem(rows: Iterable[dict]) -> Dict[str, float]:
    """{problem: pass rate} (a problem's rollouts share its rate; the largest is taken)."""
    rates: Dict[str, float] = {}
    for row in rows:
        rates[row["problem_id"]] = max(rates.get(row["problem_id"], row["pass_rate"]), row["pass_rate"])
    return rates


def verified_stats(rows: Iterable[dict]) -> dict:
    """``{"pass_rates": histogram of all problems, "verifier_agreement": ...}`` of rows."""
    rows = list(rows)
    return {"pass_rates": pass_histogram(pass_rates_by_problem(rows).values()),
            "verifier_agreement": verifier_agreement(rows)}


# -- the same, aggregated in the pipeline -----------------------------------------------------


class _Verdicts(beam.CombineFn):
    """The verdicts of a group of equal answers and its size."""

    def create_accumulator(self):
        return set(), 0

    def add_input(self, acc, verdict):
        return acc[0] | {verdict}, acc[1] + 1

    def merge_accumulators(self, accs):
        verdicts, size = set(), 0
        for v, n in accs:
            verdicts |= v
            size += n
        return verdicts, size

    def extract_output(self, acc):
        return sorted(acc[0]), acc[1]


def _keyed_verdict(row: dict) -> list:
    key = answer_key(row)
    return [] if key is None else [(key, row["verdict"])]


def _assemble(_, bins, verdict_counts, groups, agreeing, disagreements) -> dict:
    histogram = pass_histogram([])
    for index, n in bins:
        histogram[index] += n
    return {"pass_rates": histogram,
            "verifier_agreement": summarize_agreement(sorted(verdict_counts), groups, agreeing, disagreements)}


class VerifiedStats(beam.PTransform):
    """Rows of ``VERIFIED_COLUMNS`` → one dict, equal to :func:`verified_stats` of them.

    Every step is a per-key combine or a global count; nothing gathers the rows."""

    def expand(self, rows):
        bins = (rows
                | "RateByProblem" >> beam.Map(lambda r: (r["problem_id"], r["pass_rate"]))
                | "OneRate" >> beam.CombinePerKey(max)
                | "PassBin" >> beam.Map(lambda kv: pass_bin(kv[1]))
                | "CountBins" >> beam.combiners.Count.PerElement())
        verdict_counts = (rows
                          | "VerifierVerdict" >> beam.Map(lambda r: (verifier_of(r), r["verdict"]))
                          | "CountVerdicts" >> beam.combiners.Count.PerElement())
        groups = (rows
                  | "ByAnswer" >> beam.FlatMap(_keyed_verdict)
                  | "Verdicts" >> beam.CombinePerKey(_Verdicts())
                  | "TwoOrMore" >> beam.Filter(lambda kv: kv[1][1] >= 2)
                  | "VerdictSets" >> beam.Map(lambda kv: (kv[0], kv[1][0])))
        n_groups = groups | "CountGroups" >> beam.combiners.Count.Globally()
        agreeing = (groups
                    | "Agreeing" >> beam.Filter(lambda kv: len(kv[1]) == 1)
                    | "CountAgreeing" >> beam.combiners.Count.Globally())
        first = (groups
                 | "Disagreeing" >> beam.Filter(lambda kv: len(kv[1]) > 1)
                 | "FirstKeys" >> beam.combiners.Top.Of(DISAGREEMENT_EXAMPLES, key=lambda kv: kv[0], reverse=True))
        return (rows.pipeline
                | "Once" >> beam.Create([None])
                | "Assemble" >> beam.Map(_assemble, beam.pvalue.AsList(bins), beam.pvalue.AsList(verdict_counts),
                                         beam.pvalue.AsSingleton(n_groups), beam.pvalue.AsSingleton(agreeing),
                                         beam.pvalue.AsSingleton(first)))
