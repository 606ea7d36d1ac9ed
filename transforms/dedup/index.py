"""The persistent signature index of a published corpus: Parquet files of one prompt
signature per problem (``WriteSignatureIndex``), checked against this run's signature
parameters (``check_indexes``) and read back as published graph nodes (``index_node``)
that always survive, so a later run drops what is already published."""
from __future__ import annotations

from typing import List, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.dedup.config import DedupConfig
from transforms.dedup.nodes import PromptNodes
from transforms.dedup.survivor import Candidate, Node, survivor_rank

PUBLISHED_PREFIX = "published:"


def index_schema(config: DedupConfig):
    """pyarrow schema of a signature index, its metadata naming the signature parameters."""
    import pyarrow as pa

    fields = [("problem_id", pa.string()), ("source", pa.string()), ("exact_key", pa.string()),
              ("signature", pa.binary())]
    return pa.schema(fields, metadata=config.index_metadata())


def check_indexes(config: DedupConfig) -> List[str]:
    """The index files ``config.index_paths`` name; ValueError when a path matches none
    or a file's signatures were made with other parameters."""
    import pyarrow.parquet as pq

    expected = config.index_metadata()
    files = []
    for path in config.index_paths:
        matched = sorted(m.path for m in FileSystems.match([path])[0].metadata_list)
        if not matched:
            raise ValueError(f"dedup.index_paths: {path!r} matches no file")
        for name in matched:
            with FileSystems.open(name) as fh:
                metadata = {k.decode(): v.decode() for k, v in (pq.read_schema(fh).metadata or {}).items()}
            found = {k: metadata.get(k) for k in expected}
            if found != expected:
                raise ValueError(f"dedup.index_paths: {name} holds signatures made with {found}, "
                                 f"this run uses {expected}")
        files.extend(matched)
    return files


def index_row(node: Node) -> dict:
    """A Node as a signature index row."""
    return {"problem_id": node.record_id, "source": node.source, "exact_key": node.exact,
            "signature": node.signature}


def index_node(row: dict, policy: Sequence[str]) -> Node:
    """A published index row as a graph node (published nodes always survive)."""
    problem_id = row["problem_id"]
    rank = survivor_rank(Candidate(problem_id, True, 1.0, 0, published=True), policy)
    return Node(PUBLISHED_PREFIX + problem_id, problem_id, row["source"], row["exact_key"], row["signature"],
                rank, True)


class WriteSignatureIndex(beam.PTransform):
    """Records of a published corpus (anything with ``problem_id``, ``prompt``, ``source``)
    → Parquet files ``<prefix>-SSSSS-of-NNNNN.parquet`` holding one prompt signature per
    problem, for ``DedupConfig.index_paths`` of later runs."""

    def __init__(self, file_path_prefix: str, config: DedupConfig):
        super().__init__()
        self.prefix, self.config = file_path_prefix, config

    def expand(self, records):
        return (
            records
            | "Nodes" >> PromptNodes(self.config)
            | "Rows" >> beam.Map(index_row)
            | "Write" >> beam.io.WriteToParquet(self.prefix, index_schema(self.config),
                                                file_name_suffix=".parquet")
        )
