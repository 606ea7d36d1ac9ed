"""Mix: quotas per kind, per-prompt cap, deterministic selection, shortfalls."""
import json

import apache_beam as beam

from tests.factories import verified
from transforms.mix import MixConfig, MixExamples, assistant_content, to_example


def _pool(n_reasoning, n_knowledge, per_problem=1):
    out = []
    for i in range(n_reasoning):
        out.append(verified(i % per_problem, source_id=f"r{i // per_problem}", completion=f"r{i}"))
    for i in range(n_knowledge):
        out.append(verified(0, source_id=f"k{i}", kind="knowledge", domain="knowledge",
                            completion=f"k{i}"))
    return out


def _run(records, config, tmp_path, seed=1):
    """Run MixExamples; return (sorted selected ids, sorted (rejected id, reason))."""
    out = {name: str(tmp_path / f"{name}-{seed}-{len(records)}.json") for name in ("sel", "rej")}

    def dump(values, path):
        with open(path, "w") as fh:
            json.dump(sorted(values), fh)

    with beam.Pipeline() as p:
        mixed = p | beam.Create(records) | MixExamples(config, seed)
        (mixed.kept | "Sel" >> beam.Map(lambda e: e.example_id) | "L1" >> beam.combiners.ToList()
         | "S" >> beam.Map(dump, out["sel"]))
        (mixed.rejected | "Rej" >> beam.Map(lambda r: (r.record_id, r.reason))
         | "L2" >> beam.combiners.ToList() | "R" >> beam.Map(dump, out["rej"]))
    return tuple(json.load(open(out[k])) for k in ("sel", "rej"))


def test_targets_scale():
    assert MixConfig(scale=1 / 1000).targets() == {"reasoning": 600, "knowledge": 200}


def test_quotas_hit_exactly_and_selection_is_deterministic(tmp_path):
    pool = _pool(30, 12)
    config = MixConfig(reasoning=20, knowledge=5)
    sel1, rej1 = _run(pool, config, tmp_path)
    sel2, rej2 = _run(list(reversed(pool)), config, tmp_path / ".." / tmp_path.name)
    assert sel1 == sel2 and rej1 == rej2
    assert len(sel1) == 25 and len(rej1) == 17
    assert {reason for _, reason in rej1} == {"over_quota"}
    sel3, _ = _run(pool, config, tmp_path, seed=2)
    assert sel3 != sel1


def test_short_supply_takes_everything_and_zero_target_takes_nothing(tmp_path):
    sel, rej = _run(_pool(3, 4), MixConfig(reasoning=10, knowledge=0), tmp_path)
    assert len(sel) == 3 and len(rej) == 4


def test_per_prompt_cap(tmp_path):
    pool = _pool(12, 0, per_problem=4)  # 3 problems x 4 samples
    sel, rej = _run(pool, MixConfig(reasoning=100, knowledge=0, per_prompt_cap=2), tmp_path)
    assert len(sel) == 6
    assert [reason for _, reason in rej] == ["per_prompt_cap"] * 6


def test_example_format():
    ex = to_example(verified())
    assert [m.role for m in ex.messages] == ["user", "assistant"]
    assert ex.messages[1].content.startswith("<think>\n2 + 3 = 5.\n</think>\n\n")
    assert ex.rollout_ids == [verified().rollout_id]
    assert assistant_content("", "Paris.") == "Paris."
