"""Kill-and-resume: a real ``sample`` process is killed at a seeded random point
(after k journal chunks) and re-run; the result has every rollout exactly once,
equals an uninterrupted run, and the model is never asked again for a rollout
that was persisted."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

from pipelines.config import load_config
from schemas.records import Problem, Rollout, from_dict
from transforms.core import derive_seed, stable_hash
from transforms.core.io import list_shards, read_parquet_rows
from transforms.models.backends.fake import FakeBackend
from transforms.sample.handler import generate_for_problems, make_rollouts
from transforms.sample.ids import expected_ids, sample_seed
from transforms.sample.journal import list_journal
from transforms.sample.prompts import build_messages

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBLEMS = 40
BATCH = 2


def _config(tmp_path) -> str:
    config = {
        "seed": 7,
        "sources": [{"name": "arithmetic", "generator": "arithmetic", "count": PROBLEMS, "difficulty": [1]}],
        "sample": {"backend": "fake", "model": "fake-teacher", "n": 3, "batch_size": BATCH,
                   "fake_delay_s": 0.25, "fake_request_log": str(tmp_path / "asked.jsonl")},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _sample_cmd(config: str, out: str, *flags: str):
    return [sys.executable, "-m", "pipelines", "sample", "--config", config, "--output", out, *flags]


def _env():
    return dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=ROOT)


def _rows(prefix: str, cls):
    return [from_dict(cls, row) for path in list_shards(prefix) for row in read_parquet_rows(path)]


def _journal_rollouts(out: str):
    return [from_dict(Rollout, row) for path in list_journal(os.path.join(out, "journal"))
            for row in read_parquet_rows(path)]


def _asked(tmp_path):
    path = tmp_path / "asked.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _errors(stderr: str) -> str:
    """The end of a run's stderr without its progress lines."""
    return "\n".join(line for line in stderr.splitlines() if "sample: " not in line)[-3000:]


def _kill_after_chunks(cmd, out: str, chunks: int, timeout_s: float = 180.0) -> int:
    """Start ``cmd``, SIGKILL its process group once the journal holds ``chunks`` files."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list_journal(os.path.join(out, "journal"))) >= chunks:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return proc.returncode


@pytest.mark.slow
def test_killed_sample_resumes_without_duplicates_gaps_or_asking_twice(tmp_path):
    config_path = _config(tmp_path)
    config = load_config(config_path)
    out = str(tmp_path / "run")
    kill_at = random.Random(derive_seed("kill-and-resume", 1)).randint(2, PROBLEMS // BATCH - 4)

    returncode = _kill_after_chunks(_sample_cmd(config_path, out), out, kill_at)
    assert returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(out, "manifest.json"))
    persisted = _journal_rollouts(out)
    asked_before = len(_asked(tmp_path))
    assert len(persisted) >= kill_at * 3

    resumed = subprocess.run(_sample_cmd(config_path, out), cwd=ROOT, env=_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, (resumed.returncode, _errors(resumed.stderr))
    manifest = json.load(open(os.path.join(out, "manifest.json")))

    problems = _rows(os.path.join(out, "problems"), Problem)
    rollouts = _rows(os.path.join(out, "rollouts"), Rollout)
    backend = FakeBackend(config.sample)
    expected = {rid for p in problems for rid in expected_ids(
        p, backend.render(build_messages(p.prompt, config.sample)), config.sample, config.seed)}
    ids = [r.rollout_id for r in rollouts]
    assert len(problems) == PROBLEMS
    assert len(ids) == len(set(ids)), "duplicate rollout ids"
    assert set(ids) == expected, "missing or unexpected rollout ids"

    # the model was asked, after the kill, exactly for what was not persisted
    prompt_of = {p.problem_id: stable_hash(backend.render(build_messages(p.prompt, config.sample)))
                 for p in problems}
    done = {(prompt_of[r.problem_id], r.sample_seed) for r in persisted}
    asked_after = [(a["prompt"], a["seed"]) for a in _asked(tmp_path)[asked_before:]]
    assert not done & set(asked_after), "the model was asked again for persisted rollouts"
    assert len(asked_after) == len(set(asked_after)) == len(expected) - len(done)
    assert manifest["resume"]["rollouts_reused"] == len(done)
    assert manifest["resume"]["rollouts_generated"] == len(expected) - len(done)
    seeds = {(r.problem_id, r.sample_index): r.sample_seed for r in rollouts}
    assert all(s == sample_seed(config.seed, pid, i) for (pid, i), s in seeds.items())

    # the resumed rows are exactly what one uninterrupted run makes (the fake backend's
    # latency is 0, so every field is reproducible)
    fresh = [r for g in generate_for_problems(backend, problems, config.sample, config.seed)
             for r in make_rollouts(g, config.sample, config.seed, config.config_hash)]
    by_id = {r.rollout_id: r for r in rollouts}
    differences = {f.rollout_id: {k: (getattr(by_id[f.rollout_id], k), v) for k, v in f._asdict().items()
                                  if getattr(by_id[f.rollout_id], k) != v}
                   for f in fresh if by_id[f.rollout_id] != f}
    assert not differences, differences
