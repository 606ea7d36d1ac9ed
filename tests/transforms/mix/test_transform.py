"""MixExamples: quotas per bucket hit exactly and deterministically, the per-prompt cap,
journeys in their own part, every candidate selected or rejected, every drop counted."""
import json
from collections import Counter

import apache_beam as beam

from tests.factories import verified
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.transform import MixExamples


def _pool(n_reasoning, n_knowledge, per_problem=1, domains=("math",)):
    out = []
    for i in range(n_reasoning):
        out.append(verified(i % per_problem, source_id=f"r{i // per_problem}", completion=f"r{i}",
                            domain=domains[i % len(domains)]))
    for i in range(n_knowledge):
        out.append(verified(0, source_id=f"k{i}", kind="knowledge", domain="knowledge",
                            completion=f"k{i}"))
    return out


def _journeys(n, domains=("math", "code")):
    """n journey examples (one per problem, as the journey step builds them)."""
    return [to_example(verified(0, source_id=f"j{i}", completion=f"j{i}", domain=domains[i % len(domains)]))._replace(
        journey="splice:step", example_id=f"journey-{i}") for i in range(n)]


def _run(records, config, tmp_path, seed=1, journeys=None):
    """Run MixExamples; return (sorted selected (id, journey), sorted (rejected id, reason))."""
    tag = f"{seed}-{len(records)}-{len(journeys or [])}"
    out = {name: str(tmp_path / f"{name}-{tag}.json") for name in ("sel", "rej")}

    def dump(values, path):
        with open(path, "w") as fh:
            json.dump(sorted(values), fh)

    with beam.Pipeline() as p:
        inputs = p | "Curated" >> beam.Create(records)
        if journeys is not None:
            inputs = {"curated": inputs, "journeys": p | "Journeys" >> beam.Create(journeys)}
        mixed = inputs | MixExamples(config, seed)
        (mixed.kept | "Sel" >> beam.Map(lambda e: (e.example_id, e.journey or "")) | "L1" >> beam.combiners.ToList()
         | "S" >> beam.Map(dump, out["sel"]))
        (mixed.rejected | "Rej" >> beam.Map(lambda r: (r.record_id, r.reason))
         | "L2" >> beam.combiners.ToList() | "R" >> beam.Map(dump, out["rej"]))
    return tuple(json.load(open(out[k])) for k in ("sel", "rej"))


def test_default_quotas_scaled_by_1_in_1000_are_hit_exactly_and_deterministically(tmp_path):
    pool = _pool(650, 230)
    config = MixConfig(scale=1 / 1000)
    sel1, rej1 = _run(pool, config, tmp_path)
    sel2, rej2 = _run(list(reversed(pool)), config, tmp_path / ".." / tmp_path.name)
    assert sel1 == sel2 and rej1 == rej2
    by_id = {to_example(r).example_id: r.kind for r in pool}
    kinds = [by_id[i] for i, _ in sel1]
    assert kinds.count("reasoning") == 600 and kinds.count("knowledge") == 200
    assert len(sel1) + len(rej1) == len(pool)  # every candidate selected or rejected
    assert {reason for _, reason in rej1} == {"over_quota"}


def test_seed_changes_the_selection(tmp_path):
    pool = _pool(30, 12)
    config = MixConfig(reasoning=20, knowledge=5)
    sel1, _ = _run(pool, config, tmp_path)
    sel3, _ = _run(pool, config, tmp_path, seed=2)
    assert len(sel1) == len(sel3) == 25 and sel3 != sel1


def test_short_supply_takes_everything_and_zero_target_takes_nothing(tmp_path):
    sel, rej = _run(_pool(3, 4), MixConfig(reasoning=10, knowledge=0), tmp_path)
    assert len(sel) == 3 and len(rej) == 4


def test_per_prompt_cap(tmp_path):
    pool = _pool(12, 0, per_problem=4)  # 3 problems x 4 samples
    sel, rej = _run(pool, MixConfig(reasoning=100, knowledge=0, per_prompt_cap=2), tmp_path)
    assert len(sel) == 6
    assert [reason for _, reason in rej] == ["per_prompt_cap"] * 6


def test_domain_quotas_and_journey_share(tmp_path):
    pool = _pool(40, 0, domains=("math", "code", "logic"))
    config = MixConfig(reasoning=10, knowledge=0, quota_field="domain",
                       quotas={"reasoning": {"math": 0.5, "code": 0.5}}, journey=JourneyConfig(share=0.2))
    sel, rej = _run(pool, config, tmp_path, journeys=_journeys(5))
    domains = {to_example(r).example_id: r.domain for r in pool}
    direct = [domains[i] for i, journey in sel if not journey]
    assert sorted(direct) == ["code"] * 4 + ["math"] * 4
    assert [j for _, j in sel if j] == ["splice:step"] * 2
    reasons = [reason for _, reason in rej]
    assert reasons.count("no_quota") == sum(d == "logic" for d in domains.values())
    assert len(sel) + len(rej) == len(pool) + 5


def test_every_drop_is_counted_per_step_and_reason(tmp_path):
    pool = _pool(40, 6, per_problem=4, domains=("math", "code", "logic"))
    config = MixConfig(reasoning=10, knowledge=2, per_prompt_cap=2, quota_field="domain",
                       quotas={"reasoning": {"math": 0.5, "code": 0.5}, "knowledge": {"*": 1.0}},
                       journey=JourneyConfig(share=0.2))
    path = tmp_path / "rejections.json"
    p = beam.Pipeline(runner="FnApiRunner")
    inputs = {"curated": p | "Curated" >> beam.Create(pool), "journeys": p | "Journeys" >> beam.Create(_journeys(5))}
    mixed = inputs | MixExamples(config, seed=1)
    _ = (mixed.rejected | beam.Map(lambda r: f"{r.step}.dropped_{r.reason}") | beam.combiners.ToList()
         | beam.Map(lambda keys: path.write_text(json.dumps(keys))))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "mix" and ".dropped_" in c.key.metric.name}
    rejected = Counter(json.loads(path.read_text()))
    assert set(rejected) == {"select_quota.dropped_no_quota", "per_prompt_cap.dropped_per_prompt_cap",
                             "select_quota.dropped_over_quota"}
    assert counters == dict(rejected)


def _run_examples(records, config, folder, seed=1):
    """Run MixExamples; return the selected examples, sorted by id."""
    import pickle

    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / "selected.pkl")

    def dump(values):
        with open(path, "wb") as fh:
            pickle.dump(sorted(values), fh)

    with beam.Pipeline() as p:
        mixed = p | "Curated" >> beam.Create(records) | MixExamples(config, seed)
        _ = mixed.kept | beam.combiners.ToList() | beam.Map(dump)
    with open(path, "rb") as fh:
        return pickle.load(fh)
