"""The dataset card: ``README.md`` of a corpus folder, built with ``huggingface_hub``.

:func:`render_card` writes every number from the mix manifest (and nothing else), so
the card and the manifest cannot disagree: the YAML front matter is a
``DatasetCardData`` (:mod:`publish.card_meta`: licence, languages, size category,
tags, the ``configs:`` entry ``datasets.load_dataset(DIR)`` follows), the body the
teacher and its sampling settings (the manifest's config), a few example rows (the
manifest's ``examples``, see :func:`publish.stats.example_rows`), targets, composition,
the rejection funnel, statistics and files. :func:`write_card` also draws the plots
(:mod:`publish.plots`) and writes ``dataset_info.json`` (:mod:`publish.llamafactory`).
``reasoning-corpus report DIR`` rewrites them all from ``DIR/manifest.json``.
"""
from __future__ import annotations

import json
import re
from typing import Dict, List, Optional

from apache_beam.io.filesystems import FileSystems

from publish.card_meta import card_data, card_settings
from publish.costs import cost_section
from publish.layout import DATA, DATASET_INFO, README, stage_folders
from publish.llamafactory import write_dataset_info
from publish.plots import PLOTS, plot_files, write_plots
from publish.stats import thinking_kinds
from transforms.core import io as rio

__all__ = ["PLOTS", "README", "card_files", "render_card", "report", "write_card"]


def _table(header: List[str], rows: List[list]) -> str:
    """A markdown table; one "(none)" row when there are no rows."""
    rows = rows or [["(none)"] + [""] * (len(header) - 1)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def _counts_table(name: str, counts: Dict[str, int]) -> str:
    return _table([name, "examples"], [[k or "(unset)", n] for k, n in counts.items()])


def _fenced(text: str, lang: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def render_card(manifest: dict) -> str:
    """README.md of a mix output folder; every number comes from ``manifest``."""
    from huggingface_hub import DatasetCard

    settings = card_settings(manifest)
    stats = manifest.get("stats", {})
    files = manifest["outputs"][DATA]["files"]
    parts = [
        f"# {settings.pretty_name}",
        f"{manifest['rows']} examples in {len(files)} Parquet shard(s), built by {manifest['producer']} "
        f"(schema {manifest['schema_version']}, config hash `{manifest['config_hash']}`, seed {manifest['seed']}). "
        "Each row has a `messages` column (user turn, then the assistant turn "
        "`<think>…</think>` + answer) that TRL's SFTTrainer and LLaMA-Factory (sharegpt) read as is.",
        "## Loading",
        "The `configs:` entry above names the shards, so `datasets` reads this folder (or its Hub "
        "repository) as it is; `dataset_info.json` makes it a LLaMA-Factory dataset directory.",
        _fenced("import datasets\n"
                "ds = datasets.load_dataset(\"path/to/this/folder\", split=\"train\")  # or \"ORG/NAME\" on the Hub\n"
                "print(ds[0][\"messages\"])", "python"),
        _fenced(f"# LLaMA-Factory\ndataset_dir: path/to/this/folder\ndataset: {settings.dataset_name}", "yaml"),
    ]
    parts += _generation_section(manifest, settings.license)
    parts += _registry_section(manifest.get("registry"))
    parts += _examples_section(manifest.get("examples") or [])
    parts += [
        "## Targets",
        _table(["kind", "target", "supply", "selected", "shortfall"],
               [[k, t, manifest["supply"].get(k, 0), manifest["selected"].get(k, 0),
                 manifest["shortfall"].get(k, 0)] for k, t in manifest["targets"].items()]),
        "### Buckets",
        _table(["bucket", "target", "supply", "selected", "shortfall"],
               [[b, e["target"], e["supply"], e["selected"], e["shortfall"]]
                for b, e in manifest.get("buckets", {}).items()]),
    ]
    parts += _domain_section(manifest.get("by_domain"))
    parts += [
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
    parts += _thinking_section(manifest.get("thinking"), plot_files(manifest))
    parts += _pass_rate_section(stats.get("pass_rates"))
    parts += cost_section(manifest.get("cost_per_example"), _table)
    parts += ["## Files", _table(["file", "rows", "sha256"], [[f["path"], f["rows"], f["sha256"]] for f in files])]
    body = "\n\n".join(parts) + "\n"
    card = DatasetCard(f"---\n{card_data(manifest).to_yaml()}\n---\n\n{body}")
    return str(card)


#: The teacher's settings the card shows (the sample section of the manifest's config).
TEACHER_FIELDS = ("backend", "model", "model_file", "revision")
SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "max_tokens", "n")


def _domain_section(report: Optional[dict]) -> List[str]:
    """Targets, supply and shortfall by kind and domain; each shortfall's rejections counted."""
    if not report:
        return []
    out = ["### Targets by domain",
           _table(["kind/domain", "target", "supply", "selected", "shortfall"],
                  [[k, e["target"], e["supply"], e["selected"], e["shortfall"]] for k, e in report["lines"].items()])]
    for key, reasons in report.get("shortfall_reasons", {}).items():
        out += [f"#### Why {key} falls short by {report['lines'][key]['shortfall']}",
                _table(["stage/step/reason", "records"], [[r, n] for r, n in reasons.items()])
                if reasons else "No rejection of its sources: they supplied too few problems."]
    return out


def _cell(value) -> str:
    return "(default)" if value is None else f"`{value}`"


def _generation_section(manifest: dict, license_id: str) -> List[str]:
    sample = manifest.get("config", {}).get("sample", {})
    return [
        "## Generation",
        "The teacher that wrote every trace (and the journeys' probes), and how it sampled: "
        "the `sample` section of the config in `manifest.json`.",
        _table(["setting", "value"], [[f"teacher {k}", _cell(sample.get(k))] for k in TEACHER_FIELDS]
               + [[k, _cell(sample.get(k))] for k in SAMPLING_FIELDS]),
        f"Licence: `{license_id}` (the `card.license` setting). The teacher's terms of use "
        "apply to its outputs.",
    ]


def _registry_section(entry: Optional[dict]) -> List[str]:
    """What the corpus registry saved this run (``registry`` of the manifest, when set)."""
    if not entry:
        return []
    lines = [
        "## Incremental run",
        f"Built on {entry['runs_read']} registered run(s) of `{entry['path']}`: "
        f"{entry['rollouts_reused'] or 0} rollouts reused, {entry['rollouts_generated'] or 0} generated "
        f"(teacher loaded {entry['teacher_loads'] or 0} time(s)); {entry['removed_as_published']} rollouts "
        f"removed as already published, {entry['problems_seen_before']} problems skipped as seen before. "
        f"{entry['already_published']} of the {entry['rows']} rows here were published before.",
    ]
    if entry.get("nothing_new"):
        lines.append("Nothing new to publish: every problem of this run is in an earlier corpus.")
    return lines


def _examples_section(examples: List[dict]) -> List[str]:
    if not examples:
        return []
    parts = ["## Examples", "A few rows' `messages`, each turn cut short (`card.example_chars`)."]
    for i, row in enumerate(examples, 1):
        what = row["kind"] + (f", journey `{row['journey']}`" if row.get("journey") else "")
        parts += [f"### Example {i} ({what})",
                  _fenced(json.dumps(row["messages"], indent=2, ensure_ascii=False), "json")]
    return parts


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


#: How the card names each step that shortens the thinking (``thinking.saved``).
SAVING_LABELS = {
    "prune": "`mix.prune`: redundant re-checks cut from correct traces",
    "no_cot": "`mix.no_cot`: no thinking for problems always solved briefly",
    "length_cap": "`mix.length_caps`: thinking of the examples rejected over their cap",
    "selection": "`mix.selection`: a random pick's thinking minus the policy's",
}


def _thinking_section(thinking: Optional[dict], plots: List[str]) -> List[str]:
    """Thinking tokens as sampled and as kept per kind, the tokens each step saved, and
    the plot of thinking length against pass rate."""
    kinds = thinking_kinds(thinking)
    if not kinds:
        return []
    parts = ["## Thinking length",
             "Estimated thinking tokens as sampled and in the corpus (shorter at equal correctness: "
             "the `mix.prune`, `mix.no_cot`, `mix.length_caps` and `mix.selection` settings).",
             _table(["kind", "examples", "pruned", "no thinking", "thinking tokens before", "after", "saved"],
                    [[k, t["examples"], t["pruned"], t.get("no_cot", 0), t["tokens_before"], t["tokens_after"],
                      f"{t['saved_share']:.1%}"] for k, t in kinds.items()])]
    saved = (thinking or {}).get("saved")
    if saved:
        parts.append(_table(["step", "thinking tokens saved"],
                            [[SAVING_LABELS.get(k, k), n] for k, n in saved.items()]))
    if PLOTS["thinking_lengths"] in plots:
        parts.append(f"![thinking length by pass rate]({PLOTS['thinking_lengths']})")
    return parts


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
    """Write README.md, the plots and dataset_info.json under ``out_dir``; returns their
    relative paths (the manifest's ``card``)."""
    write_plots(out_dir, manifest)
    write_dataset_info(out_dir, manifest)
    with FileSystems.create(rio.join(out_dir, README)) as fh:
        fh.write(render_card(manifest).encode("utf-8"))
    return card_files(manifest)


def card_files(manifest: dict) -> dict:
    """The card's files, relative to the output folder."""
    return {"readme": README, "plots": plot_files(manifest), "dataset_info": DATASET_INFO}


def report(out_dir: str) -> dict:
    """Rewrite the card of a finished mix run from its manifest; returns the manifest."""
    manifest_path = rio.join(out_dir, rio.MANIFEST)
    if not FileSystems.exists(manifest_path):
        raise FileNotFoundError(f"no {rio.MANIFEST} at {manifest_path}: run the 'mix' stage first")
    manifest = rio.read_json(manifest_path)
    if manifest.get("stage") != "mix":
        raise ValueError(f"{manifest_path}: expected the manifest of stage 'mix', found '{manifest.get('stage')}'")
    write_card(out_dir, manifest)
    rio.remove_empty_temp_dirs(stage_folders(out_dir))
    return manifest
