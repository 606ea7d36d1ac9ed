"""Kill the whole ``run`` at seeded random points and run it again.

Kill points: inside a shard's write (the temporary file half written), between a
file's write and its rename, and at random moments of the run (the whole process
group, worker processes included). After every kill each manifest still present
must verify and list exactly the shards a glob sees; after the final re-run the
record ids are those of an undisturbed run: none lost, none duplicated."""
import collections
import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pipelines.cli import main
from publish import accounting
from transforms.core import derive_seed
from transforms.core import io as rio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]

CONFIG = """
seed: 17
sources:
  - {name: arithmetic, generator: arithmetic, count: 14, difficulty: [1]}
  - {name: countdown, generator: countdown, count: 3, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 3, max_tokens: 64}
mix: {reasoning: 20, knowledge: 0, max_rows_per_shard: 4}
output: {max_rows_per_shard: 4}
"""

#: Runs the CLI with FileSystems.rename or .create patched to SIGKILL the process at
#: their N-th call ("create" writes half the bytes first); "count" only counts calls.
DRIVER = r"""
import json, os, signal, sys
from apache_beam.io.filesystems import FileSystems

kind, target = sys.argv[1], int(sys.argv[2])
calls = {"rename": 0, "create": 0}
real_rename, real_create = FileSystems.rename, FileSystems.create


def rename(src, dst):
    calls["rename"] += 1
    if kind == "rename" and calls["rename"] == target:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_rename(src, dst)


class Torn:
    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def create(path, *args, **kwargs):
    calls["create"] += 1
    fh = real_create(path, *args, **kwargs)
    return Torn(fh) if kind == "create" and calls["create"] == target else fh


FileSystems.rename = staticmethod(rename)
FileSystems.create = staticmethod(create)
from pipelines.cli import main

code = main(sys.argv[3:])
print("CALLS " + json.dumps(calls))
sys.exit(code)
"""

STAGES = {"sample": ["problems", "rollouts", "rejections", "dead_letters"],
          "curate": ["curated", "rejections", "dead_letters"],
          "": ["data/train", "mix/rejections", "mix/dead_letters"]}
ID_FIELDS = {"problems": "problem_id", "rollouts": "rollout_id", "curated": "rollout_id",
             "data/train": "example_id", "rejections": "record_id", "dead_letters": "record_id",
             "mix/rejections": "record_id", "mix/dead_letters": "record_id"}


def _env():
    return dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def _driver(kind, target, args):
    return subprocess.run([sys.executable, "-c", DRIVER, kind, str(target)] + args, cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600)


def _killed_after(delay, args):
    """Start the CLI in its own process group and SIGKILL the group after ``delay`` s."""
    proc = subprocess.Popen([sys.executable, "-m", "pipelines"] + args, cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


def _stage_dirs(out):
    return {stage: os.path.join(out, stage) if stage else out for stage in STAGES}


def _check_published(out):
    """Every manifest present verifies and lists exactly the shards a reader's glob sees."""
    published = 0
    for stage, folder in _stage_dirs(out).items():
        if not os.path.exists(os.path.join(folder, rio.MANIFEST)):
            continue
        published += 1
        accounting.verify_manifest(folder, upstream=False)
        for name in STAGES[stage]:
            seen = sorted(glob.glob(os.path.join(folder, f"{name}-*")))
            assert seen == sorted(rio.published_files(folder, name)), (folder, name)
    return published


def _ids(out):
    """Record ids per output, read from the manifest-listed files only."""
    ids = {}
    for stage, folder in _stage_dirs(out).items():
        for name in STAGES[stage]:
            key = f"{stage}/{name}" if stage else name
            field = ID_FIELDS[name]
            ids[key] = collections.Counter(
                row[field] for path in rio.published_files(folder, name) for row in rio.read_parquet_rows(path))
    return ids


def _shard_bytes(out):
    paths = sorted(glob.glob(os.path.join(out, "**", "*-of-*.parquet"), recursive=True))
    return {os.path.relpath(p, out): open(p, "rb").read() for p in paths}


@pytest.mark.slow
def test_killed_runs_rerun_without_loss_duplicates_or_visible_strays(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    reference, out = str(tmp_path / "reference"), str(tmp_path / "out")
    run = ["run", "--config", str(config), "--output"]

    started = time.monotonic()
    counted = _driver("count", 0, run + [reference] + IN_MEMORY)
    duration = time.monotonic() - started
    assert counted.returncode == 0, counted.stderr[-3000:]
    calls = json.loads(counted.stdout.rsplit("CALLS ", 1)[1])
    shards = len(_shard_bytes(reference))
    assert shards >= 10 and calls["rename"] >= shards and calls["create"] >= shards

    # one kill of each kind (a torn write, a write not yet renamed, the in-memory run at a
    # random moment, the multi-processing run's process group at a random moment)
    rng = random.Random(derive_seed("kill-and-rerun", 17))
    plan = [("create", rng.randint(1, shards)), ("rename", rng.randint(1, shards)),
            ("time", rng.uniform(0.2, 0.6) * duration), ("time-multi", rng.uniform(0.3, 0.9) * duration)]
    killed = []
    for kind, point in plan:
        if kind in ("create", "rename"):
            returncode = _driver(kind, point, run + [out] + IN_MEMORY).returncode
        else:
            returncode = _killed_after(point, run + [out] + (MULTI if kind == "time-multi" else IN_MEMORY))
        assert returncode in (0, -signal.SIGKILL), (kind, point, returncode)
        if returncode == -signal.SIGKILL:
            killed.append((kind, point))
        _check_published(out)
    assert len(killed) >= 3, killed

    assert main(run + [out] + IN_MEMORY) == 0  # the final re-run, in this process
    assert _check_published(out) == 3
    accounting.verify_manifest(out)
    for stage, folder in _stage_dirs(out).items():  # a re-run clears the temp files of killed writers
        assert not [t for name in STAGES[stage] for t in rio.list_temp_files(os.path.join(folder, name))]
    expected, got = _ids(reference), _ids(out)
    for name, counts in got.items():
        duplicated = {i: n for i, n in counts.items() if n > 1}
        assert not duplicated, (name, duplicated)
        assert counts == expected[name], name  # nothing lost, nothing extra
    assert sum(sum(c.values()) for c in got.values()) > 50
    assert _shard_bytes(out) == _shard_bytes(reference)
