"""``--estimate-cost N``: a few problems sampled, the tokens and money extrapolated to
the whole plan from the sampled rollouts."""
import glob
import json
import os

import pyarrow.parquet as pq

from pipelines import cli
from tests.pipelines.cli_support import GSM8K, write_config


def test_estimate_extrapolates_the_sampled_rollouts_to_the_whole_plan(tmp_path, capsys):
    config = write_config(tmp_path, f"""\
seed: 5
sources: [{{name: gsm8k, path: "{GSM8K}", preset: gsm8k}}]
sample: {{backend: fake, model: fake-teacher, n: 3, max_tokens: 32}}
cost: {{teacher: {{prompt_per_million: 1, completion_per_million: 4}}}}
""")
    out = tmp_path / "e"
    assert cli.main(["run", "--config", config, "--output", str(out), "--estimate-cost", "4"]) == 0
    found = json.loads((out / "estimate.json").read_text())
    rows = pq.read_table(glob.glob(str(out / "estimate" / "rollouts-*.parquet"))).to_pylist()
    assert found["sample"]["problems"] == 4 and len(rows) == 12
    assert found["plan"] == {"problems": 1319, "sampled_share": 1.0, "problems_sampled": 1319, "rollouts": 3957}
    prompt = round(3957 * sum(r["prompt_tokens"] for r in rows) / 12)
    completion = round(3957 * sum(r["completion_tokens"] for r in rows) / 12)
    assert found["estimate"]["prompt_tokens"] == prompt and found["estimate"]["completion_tokens"] == completion
    assert found["estimate"]["amount"] == round((prompt + 4 * completion) / 1e6, 4)
    printed = capsys.readouterr().out
    assert "the whole plan: 1,319 problems" in printed and f"tokens: {prompt:,} prompt" in printed
    assert not os.path.exists(out / "curate") and not os.path.exists(out / "manifest.json")  # nothing else ran
