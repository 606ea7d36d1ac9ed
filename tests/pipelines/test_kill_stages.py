"""Kill curate, then mix, mid-run (SIGKILL at a seeded rename of the stage's files, with
test_kill_rerun's driver) and run the stage again: the re-run's shards are byte-identical to an undisturbed
run's. A sample re-run on a finished journal asks nothing and loads no teacher.

Only the killed runs are subprocesses (the driver); the undisturbed runs and the re-runs
go through the CLI in this process, which spares an interpreter start and the imports
of each (the re-run after a kill is the same code whichever process runs it)."""
import os
import random
import signal

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.cli import main
from publish import accounting
from tests.pipelines.test_kill_rerun import IN_MEMORY, _driver, _shard_bytes
from transforms.core import derive_seed
from transforms.core import io as rio

CONFIG = """
seed: 17
sources:
  - {name: arithmetic, generator: arithmetic, count: 8, difficulty: [1]}
  - {name: countdown, generator: countdown, count: 2, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 2, max_tokens: 64}
mix: {reasoning: 20, knowledge: 0, max_rows_per_shard: 2}
output: {max_rows_per_shard: 3}
"""


def _cli(args):
    assert main(args + IN_MEMORY) == 0, args


def _reference(args, monkeypatch):
    """An undisturbed run of the stage, counting its file renames as the driver does
    (FileSystems.rename wrapped), so a kill point can be picked among them."""
    renames = []
    real_rename = FileSystems.rename

    def rename(src, dst):
        renames.append(src)
        return real_rename(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(FileSystems, "rename", staticmethod(rename))
        _cli(args)
    return len(renames)


def _kill_then_rerun(renames, at, args):
    """Kill the stage at its ``at``-th rename (a shard about to appear), then run it to the end."""
    proc = _driver("rename", max(1, min(renames - 1, at)), args + IN_MEMORY)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-2000:])
    _cli(args)


def _stage_bytes(folder, skip=("sample", "curate")):
    return {k: v for k, v in _shard_bytes(folder).items() if k.split(os.sep)[0] not in skip}


@pytest.mark.slow
def test_killed_curate_and_mix_rerun_to_byte_identical_shards(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    rng = random.Random(derive_seed("kill-stages", 17))
    base = ["--config", str(config)]
    sample = str(tmp_path / "sample")
    _cli(["sample"] + base + ["--output", sample])

    reference, out = tmp_path / "reference", tmp_path / "out"
    renames = _reference(["curate"] + base + ["--input", sample, "--output", str(reference / "curate")],
                         monkeypatch)
    _kill_then_rerun(renames, rng.randint(2, renames), ["curate"] + base + ["--input", sample, "--output",
                                                                            str(out / "curate")])
    expected = _shard_bytes(str(reference / "curate"))
    assert len(expected) >= 3 and _shard_bytes(str(out / "curate")) == expected
    accounting.verify_manifest(str(out / "curate"), upstream=False)

    renames = _reference(["mix"] + base + ["--input", str(reference / "curate"), "--output", str(reference)],
                         monkeypatch)
    _kill_then_rerun(renames, rng.randint(2, renames), ["mix"] + base + ["--input", str(out / "curate"),
                                                                         "--output", str(out)])
    expected = _stage_bytes(str(reference))
    assert any(k.startswith("data") for k in expected) and _stage_bytes(str(out)) == expected
    accounting.verify_manifest(str(out), upstream=False)

    # a sample re-run with every rollout journaled: nothing generated, the teacher never loaded
    before = _shard_bytes(sample)
    _cli(["sample"] + base + ["--output", sample])
    resume = rio.read_json(os.path.join(sample, rio.MANIFEST))["resume"]
    assert resume["rollouts_generated"] == 0 and resume["teacher_loads"] == 0 and resume["rollouts_reused"] > 0
    assert _shard_bytes(sample) == before
