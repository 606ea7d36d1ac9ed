"""#17 classes 2 and 3 through the CLI: ``sample --input`` and ``verify --input`` on one
file mixing good lines with every bad kind (deep nesting, lone surrogates in any string,
bad UTF-8, not JSON, not an object) and cut short inside its gzip stream exit 0,
dead-letter exactly the bad lines with their line numbers and keep every good one (before:
a RecursionError or a coder failure killed the stage with a Beam traceback, and the cut
was never reported). Unreadable inputs and damaged stage folders given to ``curate
--input`` are one error naming the file, never a traceback."""
from __future__ import annotations

import glob
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from tests.pipelines.cli_support import FAKE, write_config
from tests.transforms.core import hostile

SAMPLE = """\
seed: 5
sample: {backend: fake, model: fake-teacher, n: 1, max_tokens: 32}
"""


def _rows(folder, name, columns=None):
    return [r for path in sorted(glob.glob(os.path.join(str(folder), f"{name}-*.parquet")))
            for r in pq.read_table(path, columns=columns).to_pylist()]


def test_sample_input_keeps_every_good_line_and_dead_letters_each_bad_one(tmp_path, capsys):
    source = tmp_path / "mixed.jsonl.gz"
    good, bad = hostile.write_mixed_gz(source)
    out = tmp_path / "out"
    code = cli.main(["sample", "--config", write_config(tmp_path, SAMPLE), "--input", str(source),
                     "--preset", "gsm8k", "--output", str(out), "--runner=FnApiRunner"])
    err = capsys.readouterr().err
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    dead = _rows(out, "dead_letters", ["stage", "step", "file", "line", "error"])
    assert sorted((d["line"], d["error"].split(":")[0]) for d in dead) == bad
    assert {(d["stage"], d["step"], d["file"]) for d in dead} == {("ingest", "read", str(source))}
    assert len(_rows(out, "problems", ["problem_id"])) == len(good)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["accounting"]["ingest"]["in"] == len(good) + len(bad)


def test_verify_input_answers_every_line_and_errors_each_bad_one(tmp_path, capsys):
    source = tmp_path / "mixed.jsonl.gz"
    good, bad = hostile.write_mixed_gz(source)
    out = tmp_path / "verdicts.jsonl"
    code = cli.main(["verify", "--input", str(source), "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(good) + len(bad)
    errors = [(r["input_line"], r["reason"].split(":")[0]) for r in rows if "input_line" in r]
    assert errors == bad and all(r["verdict"] == "error" for r in rows if "input_line" in r)
    kept = [r for r in rows if "input_line" not in r]
    assert [r["problem_id"] for r in kept] == [hostile.good_row(i)["problem_id"] for i in range(len(good))]
    assert {r["verdict"] for r in kept} == {"correct"}


@pytest.mark.parametrize("name, data, message", [
    ("cut.parquet", b"PAR1" + b"\x00" * 64, "not a readable Parquet file"),
    ("plain.jsonl.gz", b'{"question": "q"}\n', "can't be read"),
])
def test_an_unreadable_input_is_one_error_naming_it(tmp_path, capsys, name, data, message):
    source = tmp_path / name
    source.write_bytes(data)
    code = cli.main(["sample", "--config", write_config(tmp_path, SAMPLE), "--input", str(source),
                     "--preset", "gsm8k", "--output", str(tmp_path / "out"), "--runner=FnApiRunner"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(source) in err and message in err and "Traceback" not in err


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sample")
    out = tmp / "sample"
    assert cli.main(["sample", "--config", write_config(tmp, FAKE), "--output", str(out),
                     "--runner=FnApiRunner"]) == 0
    return out


def _damage(folder, how):
    shard = sorted(glob.glob(os.path.join(str(folder), "rollouts-*.parquet")))[0]
    if how == "truncated shard":
        with open(shard, "r+b") as fh:
            fh.truncate(100)
        return os.path.basename(shard)
    if how == "missing shard":
        os.remove(shard)
        return os.path.basename(shard)
    manifest = os.path.join(str(folder), "manifest.json")
    if how == "manifest not JSON":
        with open(manifest, "a") as fh:
            fh.write("{")
    elif how == "manifest without files":
        data = json.load(open(manifest))
        del data["outputs"]["rollouts"]["files"]
        json.dump(data, open(manifest, "w"))
    return "manifest.json"


@pytest.mark.parametrize("how", ["truncated shard", "missing shard", "manifest not JSON", "manifest without files"])
def test_a_damaged_stage_folder_is_one_error_naming_the_file(sample_dir, tmp_path, capsys, how):
    folder = tmp_path / "damaged"
    shutil.copytree(sample_dir, folder)
    named = _damage(folder, how)
    code = cli.main(["curate", "--config", write_config(tmp_path, FAKE), "--input", str(folder),
                     "--output", str(tmp_path / "curate"), "--runner=FnApiRunner"])
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    assert named in err and "Traceback" not in err


def test_a_corrupt_page_in_a_stage_shard_is_dead_letters_at_curate(sample_dir, tmp_path, capsys):
    folder = tmp_path / "damaged"
    shutil.copytree(sample_dir, folder)
    shard = sorted(glob.glob(os.path.join(str(folder), "rollouts-*.parquet")))[0]
    rows = pq.ParquetFile(shard).metadata.num_rows
    column = pq.ParquetFile(shard).metadata.row_group(0).column(4)
    with open(shard, "r+b") as fh:  # same size, footer intact: only reading the rows finds it
        fh.seek(column.data_page_offset + 8)
        fh.write(b"\xff\x00" * ((column.total_compressed_size - 16) // 2))
    config = write_config(tmp_path, FAKE + "max_dead_letter_share: 1.0\n")
    out = tmp_path / "curate"
    code = cli.main(["curate", "--config", config, "--input", str(folder), "--output", str(out),
                     "--runner=FnApiRunner"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    dead = _rows(out, "dead_letters", ["stage", "step", "file", "line", "error"])
    read = [d for d in dead if d["step"] == "read"]
    assert sorted(d["line"] for d in read) == list(range(1, rows + 1))
    assert all(d["stage"] == "curate" and d["file"] == shard and d["error"].startswith("corrupt_parquet")
               for d in read)
    assert code in (0, 1)  # every rollout dead: the corpus-side checks may refuse it; the stage ran
