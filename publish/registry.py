"""The corpus registry: what earlier published runs produced, for the next run to build on.

A registry is a folder or bucket prefix (``registry.path``) that holds, per published run:

``runs/<key>/signatures-*.parquet``
    the prompt signature of every problem of the run's corpus (``WriteSignatureIndex``
    of :mod:`transforms.dedup.index`): later runs drop those prompts as duplicates;
``runs/<key>/journal/chunk-*.parquet``
    the rollouts the run's teacher generated (the sample stage's journal chunks): later
    runs reuse every rollout whose id they expect instead of asking the teacher again;
``runs/<key>/manifest.json``
    the run's corpus manifest, copied last: a run folder without it is not registered
    (a writer killed half way is never read).

``compacted/CURRENT.json`` names the current compaction, ``compacted/<name>/``: one
merged signature file and one merged journal file standing for every run it lists
(:func:`compact`); the merged runs' own index files are deleted afterwards, their
manifests stay. Readers take the compaction plus every registered run it does not list.

Plain file operations through Beam's ``FileSystems`` (local paths, ``gs://``, …): no
pipeline. Chunk and run names are hashes of their content, so registering the same run
twice writes the same files.
"""
from __future__ import annotations

import dataclasses
import io
from typing import Dict, Iterable, List, Optional, Sequence, Set

from apache_beam.io.filesystems import FileSystems

from schemas.records import Rollout
from transforms.core import io as rio
from transforms.core import stable_hash

RUNS = "runs"
COMPACTED = "compacted"
CURRENT = "CURRENT.json"
SIGNATURES = "signatures"
JOURNAL = "journal"
#: The journal chunk files (as the sample stage's journal names them).
CHUNKS = "chunk-*.parquet"


@dataclasses.dataclass(frozen=True)
class RegistryConfig:
    """``registry:``: where published runs are registered and what a run takes from them.

    Empty ``path``: no registry (every run starts from nothing). Not part of the config
    hash: the registry decides which rows are new, the manifest's ``registry`` entry says
    which registered runs a run read."""

    path: str = ""
    reuse_rollouts: bool = True  # rollouts already generated (same ids) are reused, not asked again
    dedup: bool = True  # prompts of registered corpora are duplicates (curate's prompt dedup)
    new_sources_only: bool = False  # sample only problems no registered run has sampled
    compact_after: int = 8  # compact once this many runs are outside the compaction (0: never)

    def __post_init__(self):
        if self.compact_after < 0:
            raise ValueError(f"compact_after: expected 0 or more, got {self.compact_after}")
        if self.path.endswith("/") and len(self.path) > 1:
            object.__setattr__(self, "path", self.path.rstrip("/"))

    @property
    def enabled(self) -> bool:
        return bool(self.path)


def _match(pattern: str) -> List[str]:
    try:
        result = FileSystems.match([pattern])[0]
    except Exception:  # noqa: BLE001 - nothing there yet
        return []
    return sorted(m.path for m in result.metadata_list)


def _copy(src: str, dst: str) -> None:
    with FileSystems.open(src) as fh:
        rio.publish_bytes(dst, fh.read())


def current(path: str) -> dict:
    """The current compaction (``{"name", "runs", "signatures", "journal"}``), or an empty one."""
    marker = rio.join(path, COMPACTED, CURRENT)
    if not FileSystems.exists(marker):
        return {"name": None, "runs": [], "signatures": [], "journal": []}
    return rio.read_json(marker)


def registered_runs(path: str) -> List[str]:
    """The keys of every registered run (those whose manifest is in place)."""
    manifests = _match(rio.join(path, RUNS, "*", rio.MANIFEST))
    return sorted(FileSystems.split(FileSystems.split(m)[0])[1] for m in manifests)


def _loose_runs(path: str) -> List[str]:
    merged = set(current(path)["runs"])
    return [key for key in registered_runs(path) if key not in merged]


def _resolved(path: str, names: Iterable[str]) -> List[str]:
    return [rio.join(path, COMPACTED, name) for name in names]


def signature_files(path: str) -> List[str]:
    """The signature index files of every registered corpus (compacted ones first)."""
    files = _resolved(path, current(path)["signatures"])
    for key in _loose_runs(path):
        files += _match(rio.join(path, RUNS, key, f"{SIGNATURES}-*.parquet"))
    return files


def journal_files(path: str) -> List[str]:
    """The rollout journal files of every registered run (compacted ones first)."""
    files = _resolved(path, current(path)["journal"])
    for key in _loose_runs(path):
        files += _match(rio.join(path, RUNS, key, JOURNAL, CHUNKS))
    return files


def sampled_problem_ids(path: str) -> Set[str]:
    """The problem ids some registered run has sampled (for ``new_sources_only``)."""
    return {row["problem_id"] for row in rio.read_columns(journal_files(path), ["problem_id"])}


def published_problem_ids(path: str) -> Set[str]:
    """The problem ids of every registered corpus (from the signature indexes)."""
    return {row["problem_id"] for row in rio.read_columns(signature_files(path), ["problem_id"])}


def summary(path: str) -> dict:
    """What a run read from the registry: its runs and index files (the manifest's entry)."""
    return {"path": path, "runs": registered_runs(path), "compaction": current(path)["name"],
            "signature_files": len(signature_files(path)), "journal_files": len(journal_files(path))}


def run_key(manifest: dict, journal: Sequence[str]) -> str:
    """A registered run's folder name: its config hash and a hash of its corpus files and
    journal chunks (the same run registered twice lands in the same folder)."""
    files = manifest.get("outputs", {}).get("data/train", {}).get("files", [])
    shas = sorted(f.get("sha256", "") for f in files)
    chunks = sorted(FileSystems.split(p)[1] for p in journal)
    return f"{manifest.get('config_hash', 'run')}-{stable_hash(*shas, *chunks, length=12)}"


def register(path: str, manifest_file: str, signatures: Sequence[str], journal: Sequence[str]) -> str:
    """Copy a published run into the registry: its signature index, the journal chunks no
    registered run holds yet, then its manifest (last). Returns the run's key."""
    manifest = rio.read_json(manifest_file)
    known = {FileSystems.split(p)[1] for p in journal_files(path)}
    new_chunks = [p for p in journal if FileSystems.split(p)[1] not in known]
    key = run_key(manifest, journal)
    folder = rio.join(path, RUNS, key)
    for i, src in enumerate(sorted(signatures)):
        _copy(src, rio.join(folder, f"{SIGNATURES}-{i:05d}-of-{len(signatures):05d}.parquet"))
    for src in new_chunks:
        _copy(src, rio.join(folder, JOURNAL, FileSystems.split(src)[1]))
    _copy(manifest_file, rio.join(folder, rio.MANIFEST))
    rio.remove_empty_temp_dirs([folder, rio.join(folder, JOURNAL)])
    return key


def _read_table(paths: Sequence[str]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for p in paths:
        with FileSystems.open(p) as fh:
            tables.append(pq.read_table(io.BytesIO(fh.read())))
    return pa.concat_tables(tables, promote_options="default") if tables else None


def _merged_signatures(files: Sequence[str]):
    """One table of signature rows, one per problem id (sorted), schema metadata kept."""
    table = _read_table(files)
    if table is None:
        return None
    seen: Dict[str, int] = {}
    for i, pid in enumerate(table.column("problem_id").to_pylist()):
        seen.setdefault(pid, i)
    order = sorted(seen.values(), key=lambda i: table.column("problem_id")[i].as_py())
    import pyarrow.parquet as pq

    with FileSystems.open(files[0]) as fh:
        metadata = pq.read_schema(fh).metadata
    return table.take(order).replace_schema_metadata(metadata)


def compact(path: str, min_runs: int = 1) -> Optional[str]:
    """Merge the index files of every run outside the current compaction (and the current
    compaction's) into one signature file and one journal file, when at least ``min_runs``
    runs are outside it. Returns the new compaction's name, or None when nothing was done.

    The new files are written first, ``CURRENT.json`` next (readers switch to them), and
    the merged runs' own index files are deleted last; their manifests stay."""
    import pyarrow.parquet as pq

    state, loose = current(path), _loose_runs(path)
    if not loose or len(loose) < min_runs:
        return None
    runs = sorted(set(state["runs"]) | set(loose))
    name = stable_hash(*runs, length=16)
    sig_inputs = _resolved(path, state["signatures"])
    for key in loose:
        sig_inputs += _match(rio.join(path, RUNS, key, f"{SIGNATURES}-*.parquet"))
    journal_inputs = journal_files(path)
    entry: dict = {"name": name, "runs": runs, "signatures": [], "journal": []}
    merged = _merged_signatures(sig_inputs)
    if merged is not None:
        buf = io.BytesIO()
        pq.write_table(merged, buf)
        rio.publish_bytes(rio.join(path, COMPACTED, name, f"{SIGNATURES}.parquet"), buf.getvalue())
        entry["signatures"] = [f"{name}/{SIGNATURES}.parquet"]
    rows = {r["rollout_id"]: r for p in journal_inputs for r in rio.read_parquet_rows(p)}
    if rows:
        rio.write_table(rio.join(path, COMPACTED, name, f"{JOURNAL}.parquet"),
                        [rows[k] for k in sorted(rows)], Rollout)
        entry["journal"] = [f"{name}/{JOURNAL}.parquet"]
    rio.write_json(rio.join(path, COMPACTED, CURRENT), entry)
    stale = [p for key in loose for p in _match(rio.join(path, RUNS, key, f"{SIGNATURES}-*.parquet"))
             + _match(rio.join(path, RUNS, key, JOURNAL, CHUNKS))]
    if state["name"] and state["name"] != name:
        stale += _match(rio.join(path, COMPACTED, state["name"], "*.parquet"))
    if stale:
        FileSystems.delete(stale)
    if state["name"] and state["name"] != name:
        old = rio.join(path, COMPACTED, state["name"])
        try:
            FileSystems.delete([old])  # the emptied folder (object stores have none)
        except Exception:  # noqa: BLE001 - nothing left there
            pass
    rio.remove_empty_temp_dirs([rio.join(path, COMPACTED), rio.join(path, COMPACTED, name)])
    return name
