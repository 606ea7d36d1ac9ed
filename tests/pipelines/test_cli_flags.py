"""Command-line flags: unknown flags fail before anything runs (with a suggestion),
Beam's own flags pass, and --version, --log-level, --quiet do what they say."""
import os
import subprocess
import sys

import pytest

from pipelines import cli, flags
from pipelines.flags import FlagError, check_beam_flags, check_no_flags
from publish.manifest import VERSION
from tests.pipelines.cli_support import GSM8K, ROOT, write_config


def _never(*_args, **_kwargs):
    raise AssertionError("a stage ran although a flag was wrong")


@pytest.fixture
def no_stage(monkeypatch):
    """Any stage launcher that starts fails the test."""
    from pipelines import curate, mix, sample

    for module in (sample, curate, mix):
        monkeypatch.setattr(module, "run", _never)


@pytest.mark.parametrize("extra, message", [
    (["--limt", "2"], "unknown flag --limt (did you mean --limit?)"),
    (["--lim", "2"], "unknown flag --lim (did you mean --limit?)"),  # no abbreviations
    (["--ouput=x"], "unknown flag --ouput (did you mean --output?)"),
    (["--direct-num-workers=2"], "unknown flag --direct-num-workers (did you mean --direct_num_workers?)"),
    (["--runer=DirectRunner"], "unknown flag --runer (did you mean --runner?)"),
    (["--zzzqqq"], "unknown flag --zzzqqq"),
    (["stray"], "unexpected argument 'stray'"),
    (["--direct_num_workers=many"], "argument --direct_num_workers: invalid int value: 'many'"),
])
@pytest.mark.parametrize("dry_run", [False, True])
def test_unknown_flags_fail_before_anything_runs(extra, message, dry_run, tmp_path, capsys, no_stage):
    assert os.path.exists(GSM8K), "../shared/data/gsm8k is missing"
    out = tmp_path / "out"
    argv = ["run", "--config", write_config(tmp_path), "--input", GSM8K, "--preset", "gsm8k",
            "--output", str(out)] + extra + (["--dry-run"] if dry_run else [])
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"reasoning-corpus: error: {message}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_every_unknown_flag_is_named_and_a_flag_value_is_not_taken_for_a_stray(capsys, tmp_path, no_stage):
    argv = ["sample", "--config", write_config(tmp_path), "--output", str(tmp_path / "o"),
            "--limt", "2", "--tempreture=0.3", "--direct_num_workers", "2"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown flag --limt (did you mean --limit?); unknown flag --tempreture" in err
    assert "'2'" not in err  # the values of --limt and --direct_num_workers are no strays


def test_beam_and_corpus_flags_are_known():
    check_beam_flags(["--runner=DataflowRunner", "--project", "p", "--region=europe-west4",
                      "--labels=airflow-version=v3", "--max_num_workers=4", "--dry_run=True",
                      "--direct_running_mode=multi_processing", "--direct_num_workers", "2",
                      "--sample_resource_hint=min_ram=16GB", "--experiments=use_runner_v2",
                      "--flink_master=localhost:8081", "--environment_type=LOOPBACK"])
    with pytest.raises(FlagError, match=r"unknown flag --sample_resource_hnt \(did you mean --sample_resource_hint\?\)"):
        check_beam_flags(["--sample_resource_hnt=min_ram=1GB"])
    assert "--sample_resource_hint" in flags.beam_parser().flags  # CorpusOptions, our own


def test_every_shipped_profile_has_only_flags_beam_knows():
    from pipelines.options import load_profiles, options_to_args

    profiles = load_profiles()
    assert {"direct", "dataflow-gpu", "flink", "portable"} <= set(profiles)
    for name, options in profiles.items():
        check_beam_flags(options_to_args(options), origin=f"runner profile {name}")


def test_a_profile_from_a_file_with_an_unknown_flag_is_refused(tmp_path, capsys, no_stage):
    profiles = tmp_path / "runners.yaml"
    profiles.write_text("mine: {runner: DirectRunner, direct_num_workerz: 2}\n")
    argv = ["sample", "--config", write_config(tmp_path), "--output", str(tmp_path / "o"),
            "--profile", f"{profiles}:mine"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown flag --direct_num_workerz (did you mean --direct_num_workers?)" in err
    assert f"(in runner profile {profiles}:mine)" in err


def test_commands_without_a_pipeline_take_no_extra_flags(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path), "--outptu", "x"]) == 2
    assert "unknown flag --outptu" in capsys.readouterr().err
    assert cli.main(["explain", "--input", str(tmp_path / "r.jsonl"), "--confg", "c.yaml"]) == 2
    assert "unknown flag --confg (did you mean --config?)" in capsys.readouterr().err
    with pytest.raises(FlagError, match="unexpected argument 'x'"):
        check_no_flags(["x"], ["--input"])


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"reasoning-corpus {VERSION}\n"
    proc = subprocess.run([sys.executable, "-m", "pipelines", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"reasoning-corpus {VERSION}"


def test_a_bad_log_level_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "x", "--log-level", "LOUD"])
    assert exit_.value.code == 2
    assert "expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'" in capsys.readouterr().err


def test_log_level_and_quiet(tmp_path, capsys):
    config = write_config(tmp_path)
    out = str(tmp_path / "o")
    assert cli.main(["sample", "--config", config, "--output", out]) == 0
    first = capsys.readouterr()
    assert "sample: done: prompts 4/4" in first.err and "summary" in first.out  # INFO: progress lines

    assert cli.main(["sample", "--config", config, "--output", out, "--log-level", "warning"]) == 0
    warning = capsys.readouterr()
    assert "prompts" not in warning.err and "summary" in warning.out

    assert cli.main(["sample", "--config", config, "--output", out, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == "" and "prompts" not in quiet.err


def test_a_crash_names_the_stage_without_a_traceback_unless_debug(tmp_path, capsys, monkeypatch):
    from pipelines import sample

    def crash(*_args, **_kwargs):
        raise RuntimeError("worker lost\n  deep inside the runner")

    monkeypatch.setattr(sample, "run", crash)
    argv = ["sample", "--config", write_config(tmp_path), "--output", str(tmp_path / "o")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "reasoning-corpus: error: stage sample failed: RuntimeError: worker lost" in err
    assert "Traceback" not in err and "--log-level DEBUG shows the traceback" in err
    assert cli.main(argv + ["--log-level", "DEBUG"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_an_error_inside_a_running_pipeline_is_one_line_naming_the_stage(tmp_path, capsys, monkeypatch):
    from transforms.core import io as rio

    def full(*_args, **_kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(rio, "write_table", full)  # the shard writer, inside the Beam pipeline
    argv = ["sample", "--config", write_config(tmp_path), "--output", str(tmp_path / "o")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("reasoning-corpus: error:"))
    assert line.startswith("reasoning-corpus: error: stage sample failed: OSError: No space left on device")
    assert line.endswith("(--log-level DEBUG shows the traceback)") and "Traceback" not in err


@pytest.mark.parametrize("flag", [["--limit", "2"], ["--preset", "gsm8k"]])
def test_limit_and_preset_without_input_fail_instead_of_being_ignored(flag, tmp_path, capsys, no_stage):
    out = tmp_path / "out"
    assert cli.main(["sample", "--config", write_config(tmp_path), "--output", str(out)] + flag) == 2
    err = capsys.readouterr().err
    assert f"reasoning-corpus: error: {flag[0]} applies to --input" in err and "sources[0]" in err
    assert not out.exists()
