"""Near-duplicate prompts, globally (step ``dedup_prompts``).

One node per problem (``PromptNodes``); LSH bands gather the candidates and confirm
edges (``transforms.dedup.lsh``), ``ConnectedComponents`` labels the clusters, and one
survivor per cluster is chosen by the survivor policy. Every rollout of a losing
problem is rejected with reason ``duplicate`` (same normalized prompt as the survivor)
or ``near_duplicate``, counted as ``dedup_prompts.dropped_<reason>``. Signatures of a
published corpus (``index_paths``) join the graph as nodes that always survive."""
from __future__ import annotations

import apache_beam as beam

from transforms.core import Drop, RuleStep
from transforms.dedup.components import ConnectedComponents
from transforms.dedup.config import DedupConfig
from transforms.dedup.index import index_node
from transforms.dedup.lsh import BucketEdges, band_items
from transforms.dedup.nodes import PromptNodes
from transforms.dedup.survivor import cluster_decisions

STEP = "dedup_prompts"


def _with_root(element):
    _, grouped = element
    roots = list(grouped["root"])
    if roots:
        for node in grouped["node"]:
            yield roots[0], node


def _decide_cluster(element):
    _, nodes = element
    for node, decision in cluster_decisions(list(nodes), "prompt"):
        yield node.record_id, decision


def keyed_by_decision(element):
    """(problem id, {records, decision}) → ((problem id, its Decision or None), records)."""
    problem_id, grouped = element
    decisions = list(grouped["decision"])
    return (problem_id, decisions[0] if decisions else None), list(grouped["records"])


def apply_decision(element):
    """Rule: ((problem id, Decision or None), records) → the records kept (no decision)
    or each dropped with the decision's reason and detail."""
    (_, decision), records = element
    for record in records:
        yield record if decision is None else Drop(decision.reason, decision.detail, record=record)


class DedupPrompts(beam.PTransform):
    """VerifiedRollouts → StageOutputs: every rollout of a duplicate prompt rejected."""

    def __init__(self, config: DedupConfig, stage: str):
        super().__init__()
        self.config, self.stage = config, stage

    def expand(self, records):
        config = self.config
        bands, rows = config.lsh_params()
        nodes = records | "Nodes" >> PromptNodes(config)
        published = [
            records.pipeline | f"ReadIndex{i}" >> beam.io.ReadFromParquet(path)
            | f"IndexNodes{i}" >> beam.Map(index_node, config.survivor_policy)
            for i, path in enumerate(config.index_paths)
        ]
        if published:
            nodes = [nodes] + published | "WithPublished" >> beam.Flatten()
        edges = (nodes | "Bands" >> beam.FlatMap(band_items, bands, rows)
                 | "Buckets" >> beam.GroupByKey()
                 | "Confirm" >> beam.ParDo(BucketEdges(rows, config.threshold, config.bucket_limit)))
        labels = edges | "Components" >> ConnectedComponents(config.cc_rounds)
        decisions = (
            {"node": nodes | "ByKey" >> beam.Map(lambda n: (n.key, n)), "root": labels}
            | "AttachRoot" >> beam.CoGroupByKey()
            | "WithRoot" >> beam.FlatMap(_with_root)
            | "Clusters" >> beam.GroupByKey()
            | "Decide" >> beam.FlatMap(_decide_cluster)
        )
        return (
            {"records": records | "ByProblem" >> beam.Map(lambda r: (r.problem_id, r)), "decision": decisions}
            | "Join" >> beam.CoGroupByKey()
            | "KeyByDecision" >> beam.Map(keyed_by_decision)
            | "Apply" >> RuleStep(self.stage, STEP, apply_decision)
        )
