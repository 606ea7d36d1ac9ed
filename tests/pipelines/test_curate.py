"""The curate stage hands mix typed outputs: every wrong attempt it rejected (exactly the
rejected rollouts with a wrong verdict in the rejection payloads, whatever the mix
section says), and the statistics of every verified rollout, aggregated in the pipeline."""
import json

import pytest

from pipelines import curate
from pipelines.cli import main
from pipelines.config import load_config
from publish import accounting
from publish.verified import VERIFIED_COLUMNS, verified_stats
from schemas.records import Rejection, VerifiedRollout, from_dict
from transforms.core import io as rio
from transforms.mix.attempts import takes_attempt
from transforms.verify.attempts import WRONG_ATTEMPTS, WRONG_VERDICTS, rejected_rollout, wrong_attempt

CONFIG = """
seed: 7
sources:
  - {name: arithmetic, generator: arithmetic, count: 8, difficulty: [0, 1]}
  - {name: countdown, generator: countdown, count: 2, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 4, max_tokens: 64}
mix: {reasoning: 10, knowledge: 0, journey: {share: %s, wrong_verdicts: [incorrect, no_answer]}}
"""


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("curate")
    path = tmp / "c.yaml"
    path.write_text(CONFIG % 0.2)
    out = str(tmp / "sample")
    assert main(["sample", "--config", str(path), "--output", out]) == 0
    return tmp, out


def _records(stage_dir, name, cls):
    return [from_dict(cls, row) for path in accounting.paths(rio.read_json(rio.join(stage_dir, rio.MANIFEST))
                                                              ["outputs"], name)
            for row in rio.read_parquet_rows(rio.join(stage_dir, path))]


@pytest.mark.parametrize("share", [0.2, 0.0])
def test_curate_writes_the_wrong_attempts_and_the_verified_stats(sampled, share):
    tmp, sample_dir = sampled
    path = tmp / f"c{share}.yaml"
    path.write_text(CONFIG % share)  # the mix section (journeys on or off) changes nothing here
    config = load_config(str(path))
    out = str(tmp / f"curate{share}")
    manifest = curate.run(config, sample_dir, out, [])
    rejections = _records(out, "rejections", Rejection)
    curated = _records(out, "curated", VerifiedRollout)
    line = manifest["accounting"]["curate"]
    # the launcher's check: the curate line balances without its copy of rejected rows
    assert line["in"] == line["kept"] + line["rejected"] + line["dead"]
    wrong = sorted(_records(out, WRONG_ATTEMPTS, VerifiedRollout), key=lambda r: r.rollout_id)
    # exactly the rejected rollouts with a wrong verdict in the rejection payloads
    expected = sorted((w for w in map(wrong_attempt, rejections) if w), key=lambda r: r.rollout_id)
    assert wrong == expected and wrong
    assert {w.verdict for w in wrong} <= set(WRONG_VERDICTS)
    assert line[WRONG_ATTEMPTS] == manifest["outputs"][WRONG_ATTEMPTS]["rows"] == len(wrong)
    # what journeys take (mix's wrong_verdicts) is among them
    assert [w for w in wrong if takes_attempt(w, config.mix.journey)]
    # the card's statistics of every verified rollout: curated rows and rejected rollouts
    rows = [{k: getattr(r, k) for k in VERIFIED_COLUMNS} for r in curated]
    rows += [{k: getattr(v, k) for k in VERIFIED_COLUMNS} for v in map(rejected_rollout, rejections) if v]
    assert manifest["verified_stats"] == json.loads(json.dumps(verified_stats(rows)))
    assert sum(manifest["verified_stats"]["pass_rates"]) > 0
    assert accounting.verify_manifest(out, upstream=False)["curate"]["rows"][WRONG_ATTEMPTS] == len(wrong)


def test_curate_output_does_not_depend_on_the_mix_section(sampled):
    """Curate reads nothing of mix's config: journeys on or off, any wrong_verdicts, the
    same wrong attempts (and every other output) come out."""
    tmp, sample_dir = sampled
    shards = {}
    for name, text in (("on", CONFIG % 0.2), ("off", (CONFIG % 0.0).replace("[incorrect, no_answer]", "[timeout]"))):
        path = tmp / f"m-{name}.yaml"
        path.write_text(text)
        manifest = curate.run(load_config(str(path)), sample_dir, str(tmp / f"mix-{name}"), [])
        shards[name] = {k: [f["sha256"] for f in v["files"]] for k, v in manifest["outputs"].items()}
    assert shards["on"] == shards["off"] and shards["on"][WRONG_ATTEMPTS]
