"""The corpus registry's files: registering runs (manifest last), reading their indexes
back, and compaction (merged files stand for the runs they list; old index files go)."""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from publish import registry as reg
from tests import factories
from transforms.core import io as rio
from transforms.dedup.config import DedupConfig
from transforms.dedup.index import index_schema
from transforms.sample.journal import persist_chunk

DEDUP = DedupConfig()


def _published_run(folder, name, problem_ids):
    """A run folder as the mix stage leaves it: a manifest, a signature index, journal chunks."""
    os.makedirs(folder / name / "mix", exist_ok=True)
    hasher = DEDUP.hasher()
    prompts = [f"What is {i} + {len(name)}?" for i, _ in enumerate(problem_ids)]
    signatures = [sig.tobytes() if hasattr(sig, "tobytes") else bytes(sig) for sig in hasher.signatures(prompts)]
    table = pa.Table.from_pylist(
        [{"problem_id": p, "source": name, "exact_key": prompt, "signature": s}
         for p, prompt, s in zip(problem_ids, prompts, signatures)], schema=index_schema(DEDUP))
    sig = str(folder / name / "mix" / "signatures-00000-of-00001.parquet")
    pq.write_table(table, sig)
    journal = str(folder / name / "journal")
    chunks = [persist_chunk(journal, [factories.rollout(i, source=name, source_id=p) for i in range(2)])
              for p in problem_ids]
    manifest = str(folder / name / "manifest.json")
    rio.write_json(manifest, {"stage": "mix", "config_hash": "cfg", "rows": len(problem_ids),
                              "outputs": {"data/train": {"files": [{"sha256": name}]}}})
    return manifest, [sig], chunks


def _problem_ids(files):
    return sorted(r["problem_id"] for r in rio.read_columns(files, ["problem_id"]))


def test_registered_runs_are_read_back_and_a_half_written_run_is_not(tmp_path):
    path = str(tmp_path / "registry")
    assert reg.registered_runs(path) == [] and reg.journal_files(path) == [] and reg.signature_files(path) == []
    first = reg.register(path, *_published_run(tmp_path, "a", ["p1", "p2"]))
    assert reg.register(path, *_published_run(tmp_path, "a", ["p1", "p2"])) == first  # same run, same folder
    assert reg.registered_runs(path) == [first]
    assert reg.published_problem_ids(path) == {"p1", "p2"}
    assert len(reg.journal_files(path)) == 2 and len(reg.sampled_problem_ids(path)) == 2
    # a writer killed before the manifest: its files are never read
    os.makedirs(os.path.join(path, "runs", "half", "journal"))
    with open(os.path.join(path, "runs", "half", "signatures-00000-of-00001.parquet"), "wb") as fh:
        fh.write(b"torn")
    assert reg.registered_runs(path) == [first] and len(reg.signature_files(path)) == 1
    # a later run's journal chunks already registered are not copied again
    second = reg.register(path, *_published_run(tmp_path, "b", ["p3"]))
    assert sorted(reg.registered_runs(path)) == sorted([first, second])
    assert len(reg.journal_files(path)) == 3
    assert reg.summary(path)["runs"] == sorted([first, second])


def test_compaction_merges_indexes_and_keeps_what_readers_see(tmp_path):
    path = str(tmp_path / "registry")
    reg.register(path, *_published_run(tmp_path, "a", ["p1", "p2"]))
    reg.register(path, *_published_run(tmp_path, "b", ["p2", "p3"]))
    before_ids = _problem_ids(reg.signature_files(path))
    before_rollouts = sorted(r["rollout_id"] for p in reg.journal_files(path) for r in rio.read_parquet_rows(p))
    assert reg.compact(path, min_runs=3) is None  # not due yet
    name = reg.compact(path, min_runs=2)
    assert name is not None
    current = json.load(open(os.path.join(path, "compacted", "CURRENT.json")))
    assert current["name"] == name and len(current["runs"]) == 2
    assert len(reg.signature_files(path)) == 1 and len(reg.journal_files(path)) == 1
    assert _problem_ids(reg.signature_files(path)) == ["p1", "p2", "p3"]  # one row per problem
    assert set(_problem_ids(reg.signature_files(path))) == set(before_ids)
    after_rollouts = [r["rollout_id"] for r in rio.read_parquet_rows(reg.journal_files(path)[0])]
    assert after_rollouts == sorted(set(before_rollouts))
    # the signatures keep the parameters they were made with (curate's dedup checks them)
    assert pq.read_schema(reg.signature_files(path)[0]).metadata[b"num_perm"] == str(DEDUP.num_perm).encode()
    # the merged runs' own index files are gone, their manifests stay
    for key in current["runs"]:
        files = [os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(os.path.join(path, "runs", key))
                 for f in fs]
        assert files == [f"runs/{key}/manifest.json"]
    assert not [f for f in os.listdir(os.path.join(path, "compacted")) if f.startswith(".tmp")]
    # a run after the compaction is read beside it, and the next compaction takes both
    third = reg.register(path, *_published_run(tmp_path, "c", ["p4"]))
    assert len(reg.signature_files(path)) == 2
    assert reg.compact(path) not in (None, name)
    assert _problem_ids(reg.signature_files(path)) == ["p1", "p2", "p3", "p4"]
    assert third in json.load(open(os.path.join(path, "compacted", "CURRENT.json")))["runs"]
    assert not os.path.exists(os.path.join(path, "compacted", name))


def test_registry_config_checks_its_values():
    assert not reg.RegistryConfig().enabled
    assert reg.RegistryConfig(path="gs://b/reg/").path == "gs://b/reg"
    with pytest.raises(ValueError, match="compact_after"):
        reg.RegistryConfig(path="x", compact_after=-1)
