"""The scale benchmark's data builder (benchmarks/scale.py) at a tiny size, no timing:
its synthetic rollouts are a sample stage's output as ``reasoning-corpus sample``
writes it (the same shard bytes as the stage's writer, a manifest that verifies), of
the kinds it says, from the real problems; the naive baseline's counts add up."""
import collections
import glob
import importlib.util
import json
import os

import apache_beam as beam
import pytest

from pipelines.config import load_config
from publish import accounting
from publish.manifest import load_stage_manifest
from schemas.records import Rollout, from_dict
from transforms.core import io as rio
from transforms.text.extract import THINK_CLOSE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT = 50


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    scale = _load("scale_data")
    tmp = tmp_path_factory.mktemp("scale")
    config = load_config(scale.write_config(str(tmp), COUNT, scale.MIN_N))
    kinds = scale.write_sample_stage(config, str(tmp / "sample"), COUNT, limit=100)
    return scale, config, str(tmp), kinds


def _rollouts(stage_dir):
    manifest = load_stage_manifest(stage_dir, "sample", check=["rollouts"])
    return manifest, [from_dict(Rollout, row) for path in accounting.paths(manifest["outputs"], "rollouts")
                      for row in rio.read_parquet_rows(path)]


def test_the_sample_stage_output_verifies_and_holds_every_kind(built):
    scale, config, tmp, kinds = built
    manifest, rollouts = _rollouts(os.path.join(tmp, "sample"))
    assert accounting.verify_manifest(os.path.join(tmp, "sample"), upstream=False)["sample"]["rows"]["rollouts"] == COUNT
    assert manifest["accounting"]["sample"]["rollouts"] == COUNT == len({r.rollout_id for r in rollouts})
    assert sum(kinds.values()) == COUNT and kinds["correct"] > COUNT / 3 and len(kinds) >= 5
    assert {r.source for r in rollouts} == {"gsm8k", "math"}  # MATH-500: the contaminated share
    by_problem = collections.defaultdict(dict)
    for r in rollouts:
        by_problem[r.problem_id][r.sample_index] = r
    truncated = [r for r in rollouts if r.finish_reason == "length"]
    assert truncated and all(THINK_CLOSE not in r.completion for r in truncated)
    boxed = [r for r in rollouts if "\\boxed{" + r.reference_answer + "}" in r.answer]
    assert len(boxed) >= kinds["correct"]  # correct ones (and duplicates of a correct first sample)
    duplicates = [r for r in rollouts if r.sample_index and r.completion == by_problem[r.problem_id][0].completion]
    assert len(duplicates) == kinds.get("duplicate", 0)
    assert all(r.reasoning and r.completion.startswith("<think>") for r in rollouts)


def test_the_shards_are_byte_identical_to_the_stage_writers(built, tmp_path):
    scale, config, tmp, _ = built
    _, rollouts = _rollouts(os.path.join(tmp, "sample"))
    with beam.Pipeline() as p:
        _ = p | beam.Create(rollouts) | rio.WriteParquetShards(str(tmp_path / "rollouts"), Rollout,
                                                               max_rows=config.output.max_rows_per_shard)

    def digests(pattern):
        return [open(p, "rb").read() for p in sorted(glob.glob(pattern))]

    assert digests(str(tmp_path / "rollouts-*.parquet")) == digests(os.path.join(tmp, "sample", "rollouts-*.parquet"))


def test_the_naive_script_accounts_for_every_rollout(built):
    _, _, tmp, _ = built
    out = os.path.join(tmp, "naive.json")
    _load("naive").main(["--input", os.path.join(tmp, "sample"), "--json", out])
    with open(out) as fh:
        counts = json.load(fh)
    assert counts["in"] == COUNT == sum(v for k, v in counts.items() if k != "in")
    assert counts["kept"] > 0 and counts["not_correct"] > 0
