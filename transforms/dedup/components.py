"""Connected components of the duplicate graph: union-find for one machine, and
``ConnectedComponents`` (min-label propagation with an exact global finish) in Beam."""
from __future__ import annotations

from typing import Dict, Iterable, Tuple

import apache_beam as beam


def union_find_roots(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """node → smallest node of its connected component, for every node in ``pairs``."""
    parent: Dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: find(node) for node in list(parent)}


class _UnionFindCombine(beam.CombineFn):
    """Label pairs → {label: smallest label of its class} (the exact global finish)."""

    def create_accumulator(self):
        return []

    def add_input(self, pairs, pair):
        pairs.append(pair)
        return pairs

    def merge_accumulators(self, accumulators):
        merged = []
        for pairs in accumulators:
            roots = union_find_roots(pairs)
            merged.extend((node, root) for node, root in roots.items() if node != root)
        return merged

    def extract_output(self, pairs):
        return union_find_roots(pairs)


def _hop(element):
    """A node takes the smallest label it heard and sends it to itself and its neighbours."""
    node, grouped = element
    label = min(grouped["heard"])
    yield node, label
    for other in grouped["nbr"]:
        yield other, label


def _settle(element):
    """A node's label (main output), and its label sent to each larger neighbour (tagged
    ``sent``) to check that both ends of every edge agree."""
    node, grouped = element
    label = min(grouped["heard"])
    yield node, label
    for other in grouped["nbr"]:
        if node < other:
            yield beam.pvalue.TaggedOutput("sent", (other, label))


def _disagreeing(element):
    """Edges whose ends still carry different labels, as (label, label) pairs."""
    _, grouped = element
    label = list(grouped["label"])[0]
    for other_label in grouped["sent"]:
        if other_label != label:
            yield (min(label, other_label), max(label, other_label))


class ConnectedComponents(beam.PTransform):
    """Undirected edges ``(a, b)`` → ``(node, component)`` for every node on an edge,
    the component named by its smallest node.

    Every node starts with the smallest of itself and its neighbours; ``rounds`` rounds
    of min-label propagation (one ``CoGroupByKey`` each) run distributed. The edges
    whose ends still disagree after them (none once converged: components of diameter
    up to ``rounds + 2``) are resolved exactly by a global union-find over their labels,
    so the result is exact for any graph and any number of rounds."""

    def __init__(self, rounds: int = 2):
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        both = edges | "BothWays" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
        heard = both | "Seed" >> beam.FlatMap(lambda e: [(e[0], e[0]), (e[0], e[1])])
        for i in range(self.rounds):
            heard = {"heard": heard, "nbr": both} | f"Round{i}" >> beam.CoGroupByKey() | f"Hop{i}" >> beam.FlatMap(_hop)
        settled = ({"heard": heard, "nbr": both} | "Settle" >> beam.CoGroupByKey()
                   | "Labels" >> beam.FlatMap(_settle).with_outputs("sent", main="labels"))
        leftovers = ({"label": settled.labels, "sent": settled.sent} | "Compare" >> beam.CoGroupByKey()
                     | "Disagree" >> beam.FlatMap(_disagreeing))
        merged = leftovers | "Finish" >> beam.CombineGlobally(_UnionFindCombine()).without_defaults()
        return settled.labels | "Relabel" >> beam.Map(
            lambda nl, roots: (nl[0], roots.get(nl[1], nl[1])),
            roots=beam.pvalue.AsSingleton(merged, default_value={}))
