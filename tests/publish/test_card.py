"""The dataset card: statistics, plots that render, and numbers equal to the manifest's."""
import io
import json
import os
import re

import pytest
from PIL import Image

from pipelines.cli import main
from publish.card import PLOTS, README
from publish.stats import histogram, pass_bin_labels, pass_histogram, token_bin_labels
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


def mix_corpus(tmp, extra: str = "") -> str:
    """A finished mix stage in ``tmp/out``: reasoning with journeys, knowledge with a
    shortfall; ``extra``: more config YAML (e.g. a card section)."""
    curated = _pool(6, 2) + [verified(0, source_id="r0", kind="reasoning", pass_rate=0.25, completion="x")]
    curate_dir = write_curate_stage(tmp / "curate", curated, wrong_rollouts(3))
    config = _stage_config(tmp, "mix: {reasoning: 6, knowledge: 4, journey: {share: 0.34, locate: false}}\n" + extra)
    from pipelines import mix

    out = str(tmp / "out")
    mix.run(config, curate_dir, out, [])
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return mix_corpus(tmp_path_factory.mktemp("report"))


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
    by_domain = manifest["by_domain"]
    assert tables["Targets by domain"] == [[k, *(_s(e[f]) for f in ("target", "supply", "selected", "shortfall"))]
                                           for k, e in by_domain["lines"].items()]
    for key, reasons in by_domain["shortfall_reasons"].items():  # each shortfall with its counted reasons
        heading = f"Why {key} falls short by {by_domain['lines'][key]['shortfall']}"
        assert tables.get(heading, []) == [[r, _s(n)] for r, n in reasons.items()]
    assert sum(e["shortfall"] for e in by_domain["lines"].values()) == sum(manifest["shortfall"].values())
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
    before = {p: open(os.path.join(mixed, p), "rb").read() for p in [README, "dataset_info.json", *PLOTS.values()]}
    for p in before:
        os.remove(os.path.join(mixed, p))
    assert main(["report", mixed]) == 0
    assert "README.md" in capsys.readouterr().out
    assert {p: open(os.path.join(mixed, p), "rb").read() for p in before} == before
    assert not os.path.exists(os.path.join(mixed, ".tmp"))


def test_report_command_needs_a_mix_manifest(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text(json.dumps({"stage": "curate"}))
    assert main(["report", str(tmp_path)]) == 2
    assert "expected the manifest of stage 'mix'" in capsys.readouterr().err


# -- the card's metadata, generation settings and examples ----------------------------------

CARD = """card:
  license: apache-2.0
  pretty_name: Tiny arithmetic traces
  languages: [en, fr]
  tags: [math, distillation]
  examples: 2
  example_chars: 60
sample: {model: org/teacher, revision: abc123, temperature: 0.6, top_p: 0.9, max_tokens: 300, n: 3}
"""


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    return mix_corpus(tmp_path_factory.mktemp("configured"), CARD)


def _fenced_json(text):
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]


def test_card_metadata_is_a_hub_dataset_card(mixed, configured):
    from huggingface_hub import DatasetCard

    default = DatasetCard.load(os.path.join(mixed, README)).data
    manifest = json.load(open(os.path.join(mixed, "manifest.json")))
    assert manifest["rows"] < 1000 and default.size_categories == ["n<1K"]
    assert default.license == "unknown" and default.task_categories == ["text-generation"]
    assert default.tags == ["reasoning", "sft", "synthetic"] and default.pretty_name == "Reasoning SFT corpus"
    # without card.languages: the corpus's own language values
    assert default.language == ["en"] == [k for k in manifest["counts"]["by_language"] if k]
    assert default.configs == [{"config_name": "default",
                                "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}]
    card = DatasetCard.load(os.path.join(configured, README))
    assert (card.data.license, card.data.pretty_name, card.data.language, card.data.tags) == \
        ("apache-2.0", "Tiny arithmetic traces", ["en", "fr"], ["math", "distillation"])
    assert card.text.lstrip().startswith("# Tiny arithmetic traces")


def test_card_names_the_teacher_and_its_sampling(configured):
    text = open(os.path.join(configured, README)).read()
    sample = json.load(open(os.path.join(configured, "manifest.json")))["config"]["sample"]
    rows = dict(card_tables(text)["Generation"])
    assert rows["teacher model"] == "`org/teacher`" and rows["teacher revision"] == "`abc123`"
    assert {k: rows[k].strip("`") for k in ("temperature", "top_p", "max_tokens", "n")} == \
        {"temperature": "0.6", "top_p": "0.9", "max_tokens": "300", "n": "3"}
    assert sample["revision"] == "abc123" and rows["teacher model_file"] == "(default)"
    assert "Licence: `apache-2.0`" in text


def test_card_shows_truncated_example_messages_from_the_manifest(mixed, configured):
    import pyarrow.parquet as pq

    for folder, count, chars in ((mixed, 3, 400), (configured, 2, 60)):
        manifest = json.load(open(os.path.join(folder, "manifest.json")))
        examples = manifest["examples"]
        assert len(examples) == count
        assert _fenced_json(open(os.path.join(folder, README)).read()) == [e["messages"] for e in examples]
        shards = [os.path.join(folder, f["path"]) for f in manifest["outputs"]["data/train"]["files"]]
        rows = {r["example_id"]: r for p in shards for r in pq.read_table(p).to_pylist()}
        for example in examples:
            full = rows[example["example_id"]]["messages"]
            assert [m["role"] for m in example["messages"]] == [m["role"] for m in full] == ["user", "assistant"]
            for shown, whole in zip(example["messages"], full):
                assert len(shown["content"]) <= chars
                assert shown["content"] == whole["content"] or (
                    shown["content"].endswith(" […]") and whole["content"].startswith(shown["content"][:-4]))
    # the first example of each series comes first: the default card shows all three
    default = json.load(open(os.path.join(mixed, "manifest.json")))["examples"]
    assert {(e["kind"], bool(e["journey"])) for e in default} == {("reasoning", False), ("reasoning", True),
                                                                   ("knowledge", False)}
    assert any(m["content"].endswith(" […]") for e in
               json.load(open(os.path.join(configured, "manifest.json")))["examples"] for m in e["messages"])


LOAD = """
import json, sys
import datasets
ds = datasets.load_dataset(sys.argv[1])
print("LOADED " + json.dumps({split: sorted(d["example_id"]) for split, d in ds.items()}))
"""


def test_datasets_loads_the_folder_through_the_card_offline(mixed, tmp_path):
    """``datasets.load_dataset(DIR)`` reads the shards the card's configs: entry names, and
    nothing else (a stray Parquet file a folder scan would take as a test split is left out)."""
    import shutil
    import subprocess
    import sys

    import pyarrow.parquet as pq

    folder = tmp_path / "corpus"
    shutil.copytree(mixed, folder)
    manifest = json.load(open(folder / "manifest.json"))
    shards = [folder / f["path"] for f in manifest["outputs"]["data/train"]["files"]]
    shutil.copy(shards[0], folder / "data" / "test-00000-of-00001.parquet")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               HF_DATASETS_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", LOAD, str(folder)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.rsplit("LOADED ", 1)[1])
    ids = sorted(r for p in shards for r in pq.read_table(p, columns=["example_id"]).column(0).to_pylist())
    assert loaded == {"train": ids} and len(ids) == manifest["rows"] > 0
