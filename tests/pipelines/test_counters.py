"""Every drop is counted: for each (stage, step, reason) in a run's rejection files, the
stage manifest's counter ``<stage>.<step>.dropped_<reason>`` equals the row count."""
import collections
import glob
import json
import os

import pyarrow.parquet as pq

from pipelines.cli import main

CONFIG = """
seed: 11
sources:
  - {name: arithmetic, generator: arithmetic, count: 16, difficulty: [1, 2]}
  - {name: countdown, generator: countdown, count: 4, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 4, max_tokens: 64}
curate:
  filters: {max_reasoning_tokens: 40}
mix:
  reasoning: 6
  knowledge: 2
  per_prompt_cap: 2
  journey: {share: 0.3, modes: [splice], locate: false}
"""


def _rejections(stage_dir):
    counts = collections.Counter()
    for path in glob.glob(os.path.join(stage_dir, "rejections-*.parquet")):
        table = pq.read_table(path, columns=["stage", "step", "reason"])
        counts.update(zip(*(table.column(c).to_pylist() for c in ("stage", "step", "reason"))))
    return counts


def test_every_rejection_reason_has_an_equal_counter(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    out = str(tmp_path / "run")
    assert main(["run", "--config", str(config), "--output", out]) == 0
    # the mix stage's manifest is the corpus folder's; its rejections are in its mix/ folder
    for stage, stage_dir, rejections_dir in (("curate", os.path.join(out, "curate"), os.path.join(out, "curate")),
                                             ("mix", out, os.path.join(out, "mix"))):
        manifest = json.load(open(os.path.join(stage_dir, "manifest.json")))
        counters = manifest["counters"]
        rejected = _rejections(rejections_dir)
        assert len({reason for _, _, reason in rejected}) >= 2, (stage, rejected)  # not vacuous
        for (row_stage, step, reason), count in rejected.items():
            assert row_stage == stage
            assert counters.get(f"{stage}.{step}.dropped_{reason}") == count, (step, reason, count)
        # and no counter claims drops that left no row
        dropped = {k: v for k, v in counters.items() if k.startswith(f"{stage}.") and ".dropped_" in k and v}
        assert sum(dropped.values()) == sum(rejected.values()), (dropped, rejected)
