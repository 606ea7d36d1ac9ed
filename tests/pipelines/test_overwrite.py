"""--output: a non-empty folder the tool did not make is refused without --overwrite,
before anything runs; folders the tool made (re-runs, resumes, killed runs, a DAG run's
folder) stay writable."""
import json
import os

import pytest

from pipelines import cli, outdir
from tests.pipelines.cli_support import write_config


def _never(*_args, **_kwargs):
    raise AssertionError("a stage ran although the output folder was refused")


def _users_folder(tmp_path):
    folder = tmp_path / "mine"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("my notes\n")
    (folder / "data" / "train-00000-of-00001.parquet").write_bytes(b"my own shard")
    return folder


def _snapshot(folder):
    return {os.path.relpath(os.path.join(d, f), folder): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(folder) for f in files}


@pytest.mark.parametrize("command", ["run", "sample"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_foreign_folder_is_refused_untouched(command, dry_run, tmp_path, capsys, monkeypatch):
    from pipelines import sample

    monkeypatch.setattr(sample, "run", _never)
    folder = _users_folder(tmp_path)
    before = _snapshot(folder)
    argv = [command, "--config", write_config(tmp_path), "--output", str(folder)]
    assert cli.main(argv + (["--dry-run"] if dry_run else [])) == 2
    err = capsys.readouterr().err
    assert (f"reasoning-corpus: error: --output {folder} is not empty and was not made by reasoning-corpus "
            f"(it holds README.md, data)") in err
    assert "--overwrite" in err and "Traceback" not in err
    assert _snapshot(folder) == before  # nothing written, nothing deleted


def test_overwrite_writes_into_a_foreign_folder(tmp_path, capsys):
    folder = _users_folder(tmp_path)
    config = write_config(tmp_path)
    assert cli.main(["run", "--config", config, "--output", str(folder), "--overwrite"]) == 0
    manifest = json.load(open(folder / "manifest.json"))
    assert manifest["rows"] > 0 and (folder / outdir.MARKER).exists()
    assert [f["path"] for f in manifest["outputs"]["data/train"]["files"]] == ["data/train-00000-of-00001.parquet"]
    assert (folder / "data" / "train-00000-of-00001.parquet").read_bytes() != b"my own shard"
    # made ours: the next run needs no --overwrite
    assert cli.main(["mix", "--config", config, "--input", str(folder / "curate"), "--output", str(folder)]) == 0


def test_reruns_into_folders_the_tool_made_are_allowed(tmp_path, capsys):
    config = write_config(tmp_path)
    out = tmp_path / "s"
    assert cli.main(["sample", "--config", config, "--output", str(out)]) == 0
    marker = json.loads((out / outdir.MARKER).read_text())
    assert marker["producer"].startswith("reasoning-corpus ")
    assert cli.main(["sample", "--config", config, "--output", str(out)]) == 0
    # a folder of an older run: our manifest, no marker
    (out / outdir.MARKER).unlink()
    assert outdir.made_here(str(out))
    assert cli.main(["sample", "--config", config, "--output", str(out)]) == 0


def test_a_killed_run_before_its_first_manifest_can_run_again(tmp_path):
    """Only the marker says the folder is ours: it is written before anything else."""
    folder = tmp_path / "killed"
    (folder / "sample" / ".tmp").mkdir(parents=True)
    (folder / "sample" / ".tmp" / "rollouts-00000-of-00002.parquet.ab-1.partial").write_bytes(b"half")
    assert outdir.foreign_entries(str(folder)) == ["sample"]
    outdir.mark(str(folder))
    assert outdir.foreign_entries(str(folder)) == []
    outdir.check_output(str(folder), overwrite=False)


def test_a_dag_run_folder_holding_only_our_stage_folders_is_ours(tmp_path):
    run_dir = tmp_path / "runs" / "k"
    for stage in ("sample", "curate"):
        outdir.mark(str(run_dir / stage))
    outdir.check_output(str(run_dir), overwrite=False)  # mix writes here next
    (run_dir / "notes.txt").write_text("x")
    with pytest.raises(outdir.OutputError, match=r"it holds notes\.txt\)"):
        outdir.check_output(str(run_dir), overwrite=False)


def test_new_empty_and_file_outputs(tmp_path):
    outdir.check_output(str(tmp_path / "new"), overwrite=False)
    (tmp_path / "empty").mkdir()
    outdir.check_output(str(tmp_path / "empty"), overwrite=False)
    (tmp_path / "f").write_text("x")
    with pytest.raises(outdir.OutputError, match="is a file, not a folder"):
        outdir.check_output(str(tmp_path / "f"), overwrite=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text(json.dumps({"producer": "someone else"}))
    with pytest.raises(outdir.OutputError, match=r"it holds manifest\.json"):
        outdir.check_output(str(tmp_path / "other"), overwrite=False)


def test_the_dag_stages_write_into_their_run_folder_without_overwrite(tmp_path, capsys):
    """What the Airflow DAG runs: each stage through pipelines.dag_entry with --key=value
    flags (the operator adds --labels), mix into the run folder holding sample/ and curate/."""
    from pipelines.dag_entry import stage_main

    run_dir = tmp_path / "runs" / "manual__k"
    common = [f"--config={write_config(tmp_path)}", "--labels=airflow-version=v3-1-0", "--runner=DirectRunner"]
    dirs = {"sample": run_dir / "sample", "curate": run_dir / "curate", "mix": run_dir}
    upstream = {"curate": dirs["sample"], "mix": dirs["curate"]}
    for stage in ("sample", "curate", "mix"):
        flags = [f"--stage={stage}", f"--output={dirs[stage]}", f"--job_name=reasoning-corpus-{stage}-0"]
        flags += [f"--input={upstream[stage]}"] if stage in upstream else []
        assert stage_main(flags + common) == 0, capsys.readouterr().err
    assert json.load(open(run_dir / "manifest.json"))["rows"] > 0
    assert stage_main(["--stage=mix", f"--output={run_dir}", f"--input={dirs['curate']}"] + common) == 0  # a retry
