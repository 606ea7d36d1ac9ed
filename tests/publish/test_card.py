"""The dataset card: statistics, plots that render, and numbers equal to the manifest's."""
import io
import json
import os
import re

import pytest
from PIL import Image

from pipelines.cli import main
from publish.card import PLOTS, README, histogram, pass_bin_labels, pass_histogram, token_bin_labels
from tests.factories import verified
from tests.pipelines.test_mix import _stage_config, write_curate_stage, wrong_rollouts
from tests.transforms.mix.test_transform import _pool


@pytest.mark.parametrize("values, edges, expected", [
    ([0, 5, 10, 15, 100], (0, 10, 20), [2, 2, 1]),  # the last bin is open-ended
    ([], (0, 10), [0, 0]),
    ([-1], (0, 10), [1, 0]),  # below the first edge: the first bin
])
def test_histogram(values, edges, expected):
    assert histogram(values, edges) == expected


def test_pass_rate_bins_put_1_in_the_last_and_exact_tenths_in_their_own():
    assert pass_histogram([0.0, 0.25, 0.3, 0.5, 0.75, 1.0, 0.1 * 3]) == [1, 0, 1, 2, 0, 1, 0, 1, 0, 1]
    assert pass_bin_labels()[0] == "[0.0, 0.1)" and pass_bin_labels()[-1] == "[0.9, 1.0]"
    assert token_bin_labels()[:2] == ["0-31", "32-63"] and token_bin_labels()[-1] == ">=32768"


# -- a real mix run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A finished mix stage: reasoning with journeys, knowledge with a shortfall."""
    tmp = tmp_path_factory.mktemp("report")
    curated = _pool(6, 2) + [verified(0, source_id="r0", kind="reasoning", pass_rate=0.25, completion="x")]
    curate_dir = write_curate_stage(tmp / "curate", curated, wrong_rollouts(3))
    config = _stage_config(tmp, "mix: {reasoning: 6, knowledge: 4, journey: {share: 0.34, locate: false}}\n")
    from pipelines import mix

    out = str(tmp / "out")
    mix.run(config, curate_dir, out, [])
    return out


def card_tables(text):
    """{heading: [rows of cells]} of every markdown table in the card (header rows dropped)."""
    tables, heading = {}, None
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|") and heading:
            tables.setdefault(heading, []).append([c.strip() for c in line.strip().strip("|").split("|")])
    return {h: [r for r in rows[2:] if r[0] != "(none)"] for h, rows in tables.items()}


def _s(value):
    return "n/a" if value is None else str(value)


def test_card_numbers_equal_the_manifest(mixed):
    manifest = json.load(open(os.path.join(mixed, "manifest.json")))
    text = open(os.path.join(mixed, README)).read()
    tables = card_tables(text)
    files = manifest["outputs"]["data/train"]["files"]
    assert re.search(rf"\b{manifest['rows']} examples in {len(files)} Parquet shard", text)
    assert manifest["shortfall"]  # the fixture is built to fall short
    assert tables["Targets"] == [[k, _s(t), _s(manifest["supply"][k]), _s(manifest["selected"][k]),
                                  _s(manifest["shortfall"].get(k, 0))] for k, t in manifest["targets"].items()]
    assert tables["Buckets"] == [[b, *(_s(e[f]) for f in ("target", "supply", "selected", "shortfall"))]
                                 for b, e in manifest["buckets"].items()]
    for key, title in (("by_kind", "kind"), ("by_domain", "domain"), ("by_source", "source"),
                       ("by_language", "language"), ("by_journey", "journey"), ("by_verifier", "verifier")):
        assert tables[f"By {title}"] == [[k or "(unset)", _s(n)] for k, n in manifest["counts"][key].items()]
    assert tables["Accounting"] == [[stage, k, _s(n)] for stage, line in manifest["accounting"].items()
                                    for k, n in line.items()]
    assert tables["Rejected"] == [[k, _s(n)] for k, n in manifest["funnel"]["rejected"].items()]
    assert tables["Dead letters"] == [[k, _s(n)] for k, n in manifest["funnel"]["dead_letters"].items()]
    agreement = manifest["stats"]["verifier_agreement"]
    assert tables["Verifier agreement"] == [["groups", _s(agreement["groups"])],
                                            ["agreeing", _s(agreement["agreeing"])], ["rate", _s(agreement["rate"])]]
    assert tables["Verdicts by verifier"] == [[v, verdict, _s(n)] for v, c in agreement["verdicts"].items()
                                              for verdict, n in c.items()]
    tokens = manifest["stats"]["token_lengths"]["summary"]
    assert tables["Token lengths"] == [[s, *(_s(e[f]) for f in ("n", "min", "median", "mean", "max"))]
                                       for s, e in tokens.items()]
    rates = manifest["stats"]["pass_rates"]
    assert tables["Pass rates"] == [[label, *(_s(rates["counts"][n][i]) for n in rates["counts"])]
                                    for i, label in enumerate(rates["bins"])]
    assert tables["Files"] == [[f["path"], _s(f["rows"]), f["sha256"]] for f in files]
    # and the manifest's own numbers hang together
    assert sum(manifest["counts"]["by_kind"].values()) == manifest["rows"]
    assert set(tokens) == {"reasoning", "reasoning/journey", "knowledge"}
    assert sum(e["n"] for e in tokens.values()) == manifest["rows"]


def test_plots_are_non_empty_images(mixed):
    manifest = json.load(open(os.path.join(mixed, "manifest.json")))
    assert sorted(manifest["card"]["plots"]) == sorted(PLOTS.values())
    text = open(os.path.join(mixed, README)).read()
    for path in PLOTS.values():
        assert f"]({path})" in text
        data = open(os.path.join(mixed, path), "rb").read()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
        image = Image.open(io.BytesIO(data)).convert("L")
        assert image.size == (800, 450)
        low, high = image.getextrema()
        assert high - low > 100  # something is drawn on the white canvas


def test_report_command_rewrites_the_same_card(mixed, capsys):
    before = {p: open(os.path.join(mixed, p), "rb").read() for p in [README, *PLOTS.values()]}
    for p in before:
        os.remove(os.path.join(mixed, p))
    assert main(["report", mixed]) == 0
    assert "README.md" in capsys.readouterr().out
    assert {p: open(os.path.join(mixed, p), "rb").read() for p in before} == before


def test_report_command_needs_a_mix_manifest(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text(json.dumps({"stage": "curate"}))
    assert main(["report", str(tmp_path)]) == 2
    assert "expected the manifest of stage 'mix'" in capsys.readouterr().err
