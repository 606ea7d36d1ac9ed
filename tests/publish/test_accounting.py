"""Accounting: ``verify_manifest`` catches every kind of mismatch, the stages chain
(copies such as the curate stage's wrong attempts are never a fate of their own), and
the dead-letter share stops a poisoned run."""
import json
import os
import re
import shutil

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines import launch
from pipelines.cli import main
from pipelines.config import ConfigError, load_config
from publish import accounting
from tests.publish.test_manifest import _config, _jsonl
from transforms.core import io as rio

# -- verify_manifest ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A published sample stage with one dead-lettered line (1 of 5 inputs of 'mine')."""
    tmp = tmp_path_factory.mktemp("published")
    source = _jsonl(tmp / "p.jsonl", good=4, bad=1)
    out = str(tmp / "sample")
    assert main(["sample", "--config", _config(tmp, source), "--output", out]) == 0
    return out


def _copy(published, tmp_path):
    out = str(tmp_path / "sample")
    shutil.copytree(published, out)
    return out


def _edit_manifest(out, change):
    path = os.path.join(out, rio.MANIFEST)
    manifest = json.load(open(path))
    change(manifest)
    json.dump(manifest, open(path, "w"))


def _first(out, name):
    return rio.published_files(out, name)[0]


def _flip_byte(path):
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))


TAMPERING = {
    "checksum mismatch": lambda out: _flip_byte(_first(out, "rollouts")),
    "listed file missing": lambda out: os.remove(_first(out, "problems")),
    "not in the manifest": lambda out: shutil.copy(
        _first(out, "rollouts"), os.path.join(out, "rollouts-00099-of-00100.parquet")),
    "in but": lambda out: _edit_manifest(out, lambda m: m["accounting"]["sample"].update(sampled=99)),
    "files hold": lambda out: _edit_manifest(out, lambda m: m["outputs"]["problems"].update(rows=1)),
    "ingest.problems": lambda out: _edit_manifest(
        out, lambda m: m["accounting"]["sample"].update({"in": 99, "sampled": 99 - m["accounting"]["sample"]["dead"]
                                                         - m["accounting"]["sample"]["rejected"]})),
    "rows, manifest says": lambda out: _edit_manifest(
        out, lambda m: m["outputs"]["rollouts"]["files"][0].update(rows=123)),
    "max_dead_letter_share=0.05": lambda out: _edit_manifest(  # 1 of 11 inputs dead: 9.1%
        out, lambda m: m["config"].update(max_dead_letter_share=0.05)),
    "no manifest": lambda out: os.remove(os.path.join(out, rio.MANIFEST)),
    "in the funnel": lambda out: _edit_manifest(
        out, lambda m: m["funnel"]["dead_letters"].update({"ingest/read/invalid_json": 2})),
}


def test_an_untouched_stage_verifies(published, tmp_path, capsys):
    out = _copy(published, tmp_path)
    checked = accounting.verify_manifest(out)
    assert checked["sample"]["rows"]["dead_letters"] == 1 and checked["sample"]["files"] > 4
    assert main(["verify", out]) == 0
    assert "manifest verified" in capsys.readouterr().out


@pytest.mark.parametrize("problem", sorted(TAMPERING))
def test_verify_catches(problem, published, tmp_path, capsys):
    out = _copy(published, tmp_path)
    TAMPERING[problem](out)
    with pytest.raises(accounting.ManifestError, match=problem.replace(".", r"\.")):
        accounting.verify_manifest(out)
    assert main(["verify", out]) == 1
    assert problem in capsys.readouterr().err


CURATE = {"in": 10, "kept": 4, "rejected": 6, "dead": 0}
#: The curate line: 3 of its rejected rows copied out as wrong attempts.
CURATE_WRONG = dict(CURATE, wrong_attempts=3)


@pytest.mark.parametrize("lines, problem", [
    ({"curate": CURATE, "mix": {"in": 4, "selected": 4, "rejected": 0, "dead": 0}}, None),
    ({"curate": CURATE_WRONG, "journey": {"in": 3, "built": 2, "rejected": 1, "dead": 0},
      "mix": {"in": 7, "selected": 5, "rejected": 2, "dead": 0}}, None),
    ({"curate": CURATE_WRONG, "journey": {"in": 3, "built": 3, "rejected": 0, "dead": 0},
      "mix": {"in": 4, "selected": 4, "rejected": 0, "dead": 0}}, "curate.kept + journey.in=7"),
    ({"curate": CURATE, "mix": {"in": 5, "selected": 5, "rejected": 0, "dead": 0}}, "mix.in=5"),
    ({"mix": {"in": 5, "selected": 5, "rejected": 0, "dead": 0}}, None),  # no upstream line: no chain
    # the journey step takes some of the curate stage's wrong attempts in (its own
    # wrong_verdicts), never more than curate wrote
    ({"curate": dict(CURATE, wrong_attempts=5), "journey": {"in": 3, "built": 2, "rejected": 1, "dead": 0},
      "mix": {"in": 7, "selected": 5, "rejected": 2, "dead": 0}}, None),
    ({"curate": dict(CURATE, wrong_attempts=2), "journey": {"in": 3, "built": 2, "rejected": 1, "dead": 0},
      "mix": {"in": 7, "selected": 5, "rejected": 2, "dead": 0}}, "journey.in=3 but curate.wrong_attempts=2"),
    ({"curate": CURATE, "journey": {"in": 3, "built": 2, "rejected": 1, "dead": 0},
      "mix": {"in": 7, "selected": 5, "rejected": 2, "dead": 0}}, "journey.in=3 but curate.wrong_attempts=0"),
    # a copy of rejected rows never holds more than them
    ({"curate": dict(CURATE, wrong_attempts=7), "journey": {"in": 7, "built": 7, "rejected": 0, "dead": 0},
      "mix": {"in": 11, "selected": 11, "rejected": 0, "dead": 0}}, "7 wrong_attempts but only 6 rejected"),
])
def test_stages_chain(lines, problem, tmp_path):
    funnel = {"rejected": {f"{stage}/step/reason": lines[stage]["rejected"] for stage in ("curate", "mix")
                           if stage in lines}, "dead_letters": {}}
    rio.write_json(str(tmp_path / rio.MANIFEST), {"stage": "mix", "outputs": {}, "accounting": lines,
                                                  "funnel": funnel})
    if problem is None:
        accounting.verify_manifest(str(tmp_path))
    else:
        with pytest.raises(accounting.ManifestError, match=re.escape(problem)):
            accounting.verify_manifest(str(tmp_path))


def test_wrong_attempts_are_a_copy_not_a_fate():
    # the curate line balances without them, and counting them as a fate would not balance
    assert accounting.check_balance("curate", 10, kept=4, rejected=6, dead=0) == CURATE
    assert "wrong_attempts" in accounting.NOT_PARTS
    accounting.check_copies("curate", CURATE_WRONG)
    with pytest.raises(accounting.AccountingError, match="7 wrong_attempts but only 6 rejected"):
        accounting.check_copies("curate", dict(CURATE, wrong_attempts=7))
    summary = accounting.format_summary({"curate": CURATE_WRONG}, {})
    assert "curate   10 in = kept 4, rejected 6, dead 0; wrong_attempts 3" in summary


def test_verify_follows_the_upstream_of_a_stage(published, tmp_path):
    sample_dir = _copy(published, tmp_path)
    curate_dir = str(tmp_path / "curate")
    config = load_config(os.path.join(os.path.dirname(published), "c.yaml"))
    rio.write_json(rio.join(curate_dir, rio.MANIFEST), dict(
        launch.base_manifest("curate", config), outputs={}, accounting={}, upstream={"sample": sample_dir}))
    assert set(accounting.verify_manifest(curate_dir)) == {"curate", "sample"}
    assert set(accounting.verify_manifest(curate_dir, upstream=False)) == {"curate"}
    _flip_byte(_first(sample_dir, "problems"))
    with pytest.raises(accounting.ManifestError, match="checksum mismatch"):
        accounting.verify_manifest(curate_dir)


# -- the dead-letter share ---------------------------------------------------------------


@pytest.mark.parametrize("lines, max_share, fails", [
    ({"ingest": {"in": 10, "problems": 9, "dead": 1}}, 0.1, False),  # at the limit: fine
    ({"ingest": {"in": 10, "problems": 8, "dead": 2}}, 0.1, True),
    ({"ingest": {"in": 10, "problems": 10, "dead": 0}}, 0.0, False),
    ({"ingest": {"in": 10, "problems": 10, "dead": 0}, "curate": {"in": 4, "kept": 1, "dead": 3}}, 0.5, True),
    ({"mix": {"in": 0, "selected": 0, "dead": 0}}, 0.0, False),  # nothing in: no share
    ({"ingest": {"in": 5, "problems": 0, "dead": 5}}, 1.0, False),  # the default never fails
])
def test_check_dead_letter_share(lines, max_share, fails):
    if fails:
        with pytest.raises(accounting.PoisonError, match="max_dead_letter_share"):
            accounting.check_dead_letter_share(lines, max_share)
    else:
        accounting.check_dead_letter_share(lines, max_share)


@pytest.mark.parametrize("value", [-0.1, 1.5, "lots"])
def test_max_dead_letter_share_is_validated(tmp_path, value):
    path = tmp_path / "c.yaml"
    path.write_text(f"max_dead_letter_share: {value}\n")
    with pytest.raises(ConfigError, match="max_dead_letter_share"):
        load_config(str(path))


def test_a_few_bad_records_are_reported_and_a_flood_fails_the_run_loudly(tmp_path, capsys):
    source = _jsonl(tmp_path / "p.jsonl", good=2, bad=3)  # 'mine': 3 of 5 lines bad; 3 of 11 inputs
    ok, poisoned = str(tmp_path / "ok"), str(tmp_path / "poisoned")
    assert main(["sample", "--config", _config(tmp_path, source, max_share=0.3), "--output", ok]) == 0
    assert "ingest   11 in = problems 8, rejected 0, dead 3 (27.3% dead)" in capsys.readouterr().out
    assert FileSystems.exists(rio.join(ok, rio.MANIFEST))

    config = _config(tmp_path, source, max_share=0.25, name="strict.yaml")
    assert main(["run", "--config", config, "--output", poisoned]) == 1
    err = capsys.readouterr().err
    assert "max_dead_letter_share=0.25" in err and "ingest: 3 of 11 (27.3%)" in err
    assert not FileSystems.exists(rio.join(poisoned, "sample", rio.MANIFEST))  # withdrawn
    assert len(rio.list_shards(rio.join(poisoned, "sample", "dead_letters"))) == 1  # kept to inspect
    assert not os.path.exists(os.path.join(poisoned, "curate"))  # the run stopped there
