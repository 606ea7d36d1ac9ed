"""The sample stage against a loopback server answering in 0.2-2 s a request: the
window holds 256 requests in flight, each rollout is journaled as it arrives, and
after a ``kill -9`` mid-run the re-run asks the server only for the rollouts that were
not journaled (read from the server's request log)."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests import backend_support as support
from transforms.core import io as rio
from transforms.sample.journal import read_stream

PROBLEMS, N = 80, 4


def _journaled(out) -> set:
    journal = os.path.join(out, "journal")
    rollouts = [r for path in glob.glob(os.path.join(journal, "stream-*.jsonl")) for r in read_stream(path)]
    rows = [row for path in glob.glob(os.path.join(journal, "chunk-*.parquet")) for row in rio.read_parquet_rows(path)]
    return {r.sample_seed for r in rollouts} | {row["sample_seed"] for row in rows}


@pytest.mark.slow
def test_kill_9_mid_run_and_the_rerun_asks_only_for_what_was_not_journaled(tmp_path):
    out = str(tmp_path / "out")
    with support.LatencyServer(str(tmp_path / "requests.jsonl")) as server:
        config = {"seed": 5,
                  "sources": [{"name": "arithmetic", "generator": "arithmetic", "count": PROBLEMS,
                               "difficulty": [1]}],
                  "sample": {"backend": "openai", "model": "latency", "base_url": server.base_url,
                             "api_key_env": None, "n": N, "max_tokens": 64}}
        (tmp_path / "config.yaml").write_text(json.dumps(config))
        cmd = [sys.executable, "-m", "pipelines", "sample", "--config", str(tmp_path / "config.yaml"),
               "--output", out]
        env = dict(os.environ, **support.QUIET_ENV, PYTHONPATH=support.ROOT)
        first = subprocess.Popen(cmd, cwd=support.ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        try:  # kill once every request was sent and some answers were journaled, before the end
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and first.poll() is None:
                if len(server.requests()) >= PROBLEMS * N - 16 and len(_journaled(out)) >= 20:
                    break
                time.sleep(0.05)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        peak = server.max_in_flight
        journaled = _journaled(out)
        asked_before = len(server.requests())
        rerun = subprocess.run(cmd, cwd=support.ROOT, env=env, capture_output=True, text=True, timeout=300)
        asked_again = [r["seed"] for r in server.requests()[asked_before:]]
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert peak >= 256  # the window was full
    manifest = json.loads(open(os.path.join(out, "manifest.json")).read())
    assert manifest["accounting"]["sample"]["rollouts"] == PROBLEMS * N
    rollouts = [row for path in glob.glob(os.path.join(out, "rollouts-*.parquet"))
                for row in rio.read_parquet_rows(path)]
    every = {row["sample_seed"] for row in rollouts}
    assert len(every) == PROBLEMS * N
    assert 20 <= len(journaled) < PROBLEMS * N  # killed mid-run, after some rollouts arrived
    assert sorted(asked_again) == sorted(every - journaled)  # only what was not journaled, once each
    assert manifest["resume"]["rollouts_reused"] == len(journaled)
    assert not glob.glob(os.path.join(out, "journal", "stream-*.jsonl"))  # compacted into chunks
