"""The card's PNG plots (matplotlib, Agg backend), drawn from the mix manifest only."""
from __future__ import annotations

import io
from typing import Dict, List

from apache_beam.io.filesystems import FileSystems

from transforms.core import io as rio

PLOTS = {
    "token_lengths": "plots/token_lengths.png",
    "pass_rates": "plots/pass_rates.png",
    "funnel": "plots/funnel.png",
    "thinking_lengths": "plots/thinking_lengths.png",
}


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


def _bars(ax, labels: List[str], series: Dict[str, List], ylabel: str = "count") -> None:
    """Grouped vertical bars, one group per label, one colour per series."""
    if not series or not any(any(c) for c in series.values()):
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    width = 0.8 / len(series)
    for i, (name, counts) in enumerate(series.items()):
        ax.bar([x + i * width - 0.4 + width / 2 for x in range(len(labels))], counts, width, label=name)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend()


def plot_token_lengths(stats: dict, path: str) -> None:
    plt, fig, ax = _figure(f"Token lengths ({stats['field']})")
    _bars(ax, stats["bins"], stats["counts"])
    _save(plt, fig, path)


def plot_pass_rates(stats: dict, path: str) -> None:
    plt, fig, ax = _figure("Teacher pass rate per problem")
    _bars(ax, stats["bins"], stats["counts"])
    _save(plt, fig, path)


def plot_thinking_lengths(by_pass_rate: dict, path: str) -> None:
    """Mean thinking tokens of the reasoning examples per pass-rate bin of their problem,
    as sampled and as kept (``mix.prune``, ``mix.no_cot``)."""
    plt, fig, ax = _figure("Thinking length by teacher pass rate (reasoning examples)")
    _bars(ax, by_pass_rate["bins"], {"as sampled": by_pass_rate["mean_before"],
                                     "in the corpus": by_pass_rate["mean_after"]}, "mean thinking tokens (estimated)")
    ax.set_xlabel("pass rate of the problem")
    _save(plt, fig, path)


def has_thinking_plot(manifest: dict) -> bool:
    by_pass_rate = (manifest.get("thinking") or {}).get("by_pass_rate")
    return bool(by_pass_rate and any(by_pass_rate["examples"]))


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


def plot_files(manifest: dict) -> List[str]:
    """The plots a manifest gets, relative to its folder, sorted."""
    stats = manifest.get("stats", {})
    plots = [PLOTS["funnel"]] + [PLOTS[k] for k in ("token_lengths", "pass_rates") if stats.get(k)]
    return sorted(plots + ([PLOTS["thinking_lengths"]] if has_thinking_plot(manifest) else []))


def write_plots(out_dir: str, manifest: dict) -> List[str]:
    """Draw the plots of ``manifest`` under ``out_dir``; returns :func:`plot_files`."""
    stats = manifest.get("stats", {})
    if stats.get("token_lengths"):
        plot_token_lengths(stats["token_lengths"], rio.join(out_dir, PLOTS["token_lengths"]))
    if stats.get("pass_rates"):
        plot_pass_rates(stats["pass_rates"], rio.join(out_dir, PLOTS["pass_rates"]))
    if has_thinking_plot(manifest):
        plot_thinking_lengths(manifest["thinking"]["by_pass_rate"], rio.join(out_dir, PLOTS["thinking_lengths"]))
    plot_funnel(manifest["funnel"], rio.join(out_dir, PLOTS["funnel"]))
    return plot_files(manifest)
