"""The dataset card: corpus statistics for the manifest, and ``README.md`` with PNG plots.

:func:`corpus_stats` reads the written corpus (a few columns) on the launcher and
returns what the mix manifest stores under ``stats``: token-length histograms per
series (kind, and ``reasoning/journey`` for journey examples), pass-rate distributions
(all verified problems, and the problems in the corpus) and verifier agreement. The
statistics of all verified rollouts come aggregated from the curate stage (its
manifest's ``verified_stats``, see :mod:`publish.verified`): no rejected rollout is read back.

:func:`render_card` writes every number from the manifest (and nothing else), so the
card and the manifest cannot disagree; :func:`write_card` also renders the plots
(matplotlib, Agg backend) from the manifest. ``reasoning-corpus report DIR``
rewrites both from ``DIR/manifest.json``.
"""
from __future__ import annotations

import bisect
import io
import statistics
from typing import Dict, Iterable, Iterator, List, Optional

from apache_beam.io.filesystems import FileSystems

from transforms.core import io as rio

#: Lower edges of the token-length bins (the last bin is open-ended).
TOKEN_EDGES = (0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
#: Pass-rate bins: [0, 0.1), [0.1, 0.2), …, [0.9, 1.0].
PASS_BINS = 10
README = "README.md"
PLOTS = {
    "token_lengths": "plots/token_lengths.png",
    "pass_rates": "plots/pass_rates.png",
    "funnel": "plots/funnel.png",
}
DISAGREEMENT_EXAMPLES = 5


# -- statistics -------------------------------------------------------------------------


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


# -- plots ------------------------------------------------------------------------------


def _figure(title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.set_title(title)
    return plt, fig, ax


def _save(plt, fig, path: str) -> None:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    with FileSystems.create(path) as fh:
        fh.write(buf.getvalue())


def _bars(ax, labels: List[str], series: Dict[str, List[int]]) -> None:
    """Grouped vertical bars, one group per label, one colour per series."""
    if not series or not any(any(c) for c in series.values()):
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    width = 0.8 / len(series)
    for i, (name, counts) in enumerate(series.items()):
        ax.bar([x + i * width - 0.4 + width / 2 for x in range(len(labels))], counts, width, label=name)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("count")
    ax.legend()


def plot_token_lengths(stats: dict, path: str) -> None:
    plt, fig, ax = _figure(f"Token lengths ({stats['field']})")
    _bars(ax, stats["bins"], stats["counts"])
    _save(plt, fig, path)


def plot_pass_rates(stats: dict, path: str) -> None:
    plt, fig, ax = _figure("Teacher pass rate per problem")
    _bars(ax, stats["bins"], stats["counts"])
    _save(plt, fig, path)


def plot_funnel(funnel: dict, path: str) -> None:
    plt, fig, ax = _figure("Rejections and dead letters by stage/step/reason")
    items = [(f"{k} (dead)" if kind == "dead_letters" else k, n)
             for kind in ("rejected", "dead_letters") for k, n in sorted(funnel.get(kind, {}).items())]
    if items:
        ax.barh([k for k, _ in items][::-1], [n for _, n in items][::-1])
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("records")
    else:
        ax.text(0.5, 0.5, "nothing rejected", ha="center", va="center", transform=ax.transAxes)
    _save(plt, fig, path)


# -- the card ---------------------------------------------------------------------------


def _table(header: List[str], rows: List[list]) -> str:
    """A markdown table; one "(none)" row when there are no rows."""
    rows = rows or [["(none)"] + [""] * (len(header) - 1)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def _counts_table(name: str, counts: Dict[str, int]) -> str:
    return _table([name, "examples"], [[k or "(unset)", n] for k, n in counts.items()])


FRONT_MATTER = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
task_categories:
- text-generation
tags:
- reasoning
- sft
- synthetic
---"""


def render_card(manifest: dict) -> str:
    """README.md of a mix output folder; every number comes from ``manifest``."""
    stats = manifest.get("stats", {})
    files = manifest["outputs"]["data/train"]["files"]
    parts = [
        FRONT_MATTER,
        "# Reasoning SFT corpus",
        f"{manifest['rows']} examples in {len(files)} Parquet shard(s), built by {manifest['producer']} "
        f"(schema {manifest['schema_version']}, config hash `{manifest['config_hash']}`, seed {manifest['seed']}). "
        "Each row has a `messages` column (user turn, then the assistant turn "
        "`<think>…</think>` + answer) that TRL's SFTTrainer and LLaMA-Factory (sharegpt) read as is.",
        "```python\nimport datasets\n"
        "ds = datasets.load_dataset(\"parquet\", data_files=\"data/train-*.parquet\", split=\"train\")\n```",
        "## Targets",
        _table(["kind", "target", "supply", "selected", "shortfall"],
               [[k, t, manifest["supply"].get(k, 0), manifest["selected"].get(k, 0),
                 manifest["shortfall"].get(k, 0)] for k, t in manifest["targets"].items()]),
        "### Buckets",
        _table(["bucket", "target", "supply", "selected", "shortfall"],
               [[b, e["target"], e["supply"], e["selected"], e["shortfall"]]
                for b, e in manifest.get("buckets", {}).items()]),
        "## Composition",
    ]
    for key, title in (("by_kind", "kind"), ("by_domain", "domain"), ("by_source", "source"),
                       ("by_language", "language"), ("by_journey", "journey"), ("by_verifier", "verifier")):
        parts += [f"### By {title}", _counts_table(title, manifest["counts"].get(key, {}))]
    parts += [
        "## Rejection funnel",
        "Every input of every stage ended selected/kept, rejected (with a reason) or dead-lettered.",
        f"![funnel]({PLOTS['funnel']})",
        "### Accounting",
        _table(["stage", "count", "records"],
               [[stage, name, n] for stage, line in manifest["accounting"].items() for name, n in line.items()]),
        "### Rejected",
        _table(["stage/step/reason", "records"], [[k, n] for k, n in manifest["funnel"]["rejected"].items()]),
        "### Dead letters",
        _table(["stage/step/reason", "records"], [[k, n] for k, n in manifest["funnel"]["dead_letters"].items()]),
    ]
    parts += _agreement_section(stats.get("verifier_agreement"))
    parts += _token_section(stats.get("token_lengths"))
    parts += _pass_rate_section(stats.get("pass_rates"))
    parts += ["## Files", _table(["file", "rows", "sha256"], [[f["path"], f["rows"], f["sha256"]] for f in files])]
    return "\n\n".join(parts) + "\n"


def _agreement_section(agreement: Optional[dict]) -> List[str]:
    if not agreement:
        return []
    rate = "n/a" if agreement["rate"] is None else agreement["rate"]
    return [
        "## Verifier agreement",
        "Verified rollouts grouped by (problem, normalized answer): a group agrees when every "
        "rollout in it got the same verdict.",
        _table(["metric", "value"], [["groups", agreement["groups"]], ["agreeing", agreement["agreeing"]],
                                     ["rate", rate]]),
        "### Verdicts by verifier",
        _table(["verifier", "verdict", "rollouts"],
               [[v, verdict, n] for v, counts in agreement["verdicts"].items() for verdict, n in counts.items()]),
    ]


def _token_section(tokens: Optional[dict]) -> List[str]:
    if not tokens:
        return []
    return [
        "## Token lengths",
        f"![token lengths]({PLOTS['token_lengths']})",
        _table(["series", "n", "min", "median", "mean", "max"],
               [[s, e["n"], e["min"], e["median"], e["mean"], e["max"]] for s, e in tokens["summary"].items()]),
    ]


def _pass_rate_section(rates: Optional[dict]) -> List[str]:
    if not rates:
        return []
    names = list(rates["counts"])
    return [
        "## Pass rates",
        f"![pass rates]({PLOTS['pass_rates']})",
        _table(["pass rate"] + names,
               [[label] + [rates["counts"][n][i] for n in names] for i, label in enumerate(rates["bins"])]),
    ]


def write_card(out_dir: str, manifest: dict) -> dict:
    """Write README.md and the plots under ``out_dir``; returns their relative paths."""
    stats = manifest.get("stats", {})
    if stats.get("token_lengths"):
        plot_token_lengths(stats["token_lengths"], rio.join(out_dir, PLOTS["token_lengths"]))
    if stats.get("pass_rates"):
        plot_pass_rates(stats["pass_rates"], rio.join(out_dir, PLOTS["pass_rates"]))
    plot_funnel(manifest["funnel"], rio.join(out_dir, PLOTS["funnel"]))
    with FileSystems.create(rio.join(out_dir, README)) as fh:
        fh.write(render_card(manifest).encode("utf-8"))
    return card_files(manifest)


def card_files(manifest: dict) -> dict:
    """The card's files, relative to the output folder."""
    stats = manifest.get("stats", {})
    plots = [PLOTS["funnel"]] + [PLOTS[k] for k in ("token_lengths", "pass_rates") if stats.get(k)]
    return {"readme": README, "plots": sorted(plots)}


def report(out_dir: str) -> dict:
    """Rewrite the card of a finished mix run from its manifest; returns the manifest."""
    manifest_path = rio.join(out_dir, rio.MANIFEST)
    if not FileSystems.exists(manifest_path):
        raise FileNotFoundError(f"no {rio.MANIFEST} at {manifest_path}: run the 'mix' stage first")
    manifest = rio.read_json(manifest_path)
    if manifest.get("stage") != "mix":
        raise ValueError(f"{manifest_path}: expected the manifest of stage 'mix', found '{manifest.get('stage')}'")
    write_card(out_dir, manifest)
    return manifest
