"""Dedup: exact and near-duplicate removal that is global, deterministic and fast.

Two transforms over VerifiedRollouts, each returning ``StageOutputs(kept, rejected, dead)``:

* ``DedupExact`` — responses within a prompt whose normalized completion is the same:
  the smallest rollout id survives, the others are rejected (reason ``duplicate``).
* ``DedupMinHash`` — MinHash near-duplicates (``transforms.dedup.minhash``: datasketch-equal
  signatures computed in bulk), in two scopes:

  - **prompts, globally** (step ``dedup_prompts``): one node per problem; every
    signature emits one ``(band, band values)`` key per band, ``GroupByKey`` gathers the
    candidates, a candidate pair becomes an edge when its estimated Jaccard reaches the
    threshold (equal signatures, e.g. the same normalized prompt, join directly),
    ``ConnectedComponents`` labels the clusters, and one survivor per cluster is chosen
    by the survivor policy. Every rollout of a losing problem is rejected. Prompts with
    no word token are never near-duplicates. Signatures of a published corpus
    (``index_paths``, written by ``WriteSignatureIndex``) join the graph as nodes that
    always survive, so a later run drops what is already published.
  - **responses, within a prompt** (step ``dedup_responses``): a prompt's rollouts are
    few, so all pairs are compared (exact, no LSH misses); one survivor per cluster,
    then at most ``max_responses_per_prompt`` of the survivors, the most diverse
    (greedy: each next pick is the least similar to those already picked).

Survivor policy: published first, then ``survivor_policy`` in order — ``correct``
(verified correct; a problem counts as correct when any of its rollouts is),
``readable`` (share of ordinary characters, two decimals), ``shortest`` — then the
smallest id. Rejections name the cluster and the survivor in their detail:
``cluster=<id> survivor=<id> jaccard=<estimate> scope=<prompt|response>`` with reason
``duplicate`` (same normalized text as the survivor) or ``near_duplicate``; responses
over the cap get reason ``response_cap``. Every choice is a function of the input set
(sorted ids, min labels, no input order, no ``hash()``), so the kept set is the same
under any input order, runner or worker count.
"""
from __future__ import annotations

import dataclasses
import re
import typing
import unicodedata
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np

from transforms.dedup import minhash
from transforms.core import (
    DEAD,
    REJECTED,
    StageOutputs,
    error_text,
    make_dead_letter,
    make_rejection,
    stable_hash,
)

#: Criteria the survivor policy may name, in any order (the smallest id always breaks ties).
SURVIVOR_CRITERIA = ("correct", "readable", "shortest")
PUBLISHED_PREFIX = "published:"
PROMPT_STEP = "dedup_prompts"
RESPONSE_STEP = "dedup_responses"


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    exact: bool = True  # drop responses identical (after normalization) to another of the same prompt
    prompts: bool = True  # DedupMinHash: near/exact-duplicate prompts across all sources
    responses: bool = True  # DedupMinHash: near/exact-duplicate responses within a prompt
    threshold: float = 0.8  # estimated Jaccard of shingle sets at or above which texts are near-duplicates
    num_perm: int = 128  # MinHash permutations
    seed: int = 1  # datasketch MinHash seed (chooses the permutations)
    shingle: str = "word"  # word: n-grams of \w+ tokens | char: n-character windows
    ngram: int = 5
    false_positive_weight: float = 0.1  # datasketch's LSH optimizer weights (sum 1); candidates
    false_negative_weight: float = 0.9  # are confirmed by Jaccard, so recall is favoured
    survivor_policy: Tuple[str, ...] = ("correct", "readable", "shortest")  # then the smallest id
    max_responses_per_prompt: int = 0  # 0: no cap; else keep the most diverse survivors
    index_paths: Tuple[str, ...] = ()  # signature indexes of published corpora (Parquet files or globs)
    bucket_limit: int = 1000  # an LSH bucket's members are compared with its first bucket_limit members
    cc_rounds: int = 2  # distributed label-propagation rounds before the exact global finish
    batch_size: int = 64  # texts hashed per numpy batch

    def __post_init__(self):
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold: expected a Jaccard in (0, 1], got {self.threshold}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm: expected at least 2, got {self.num_perm}")
        if self.shingle not in minhash.SHINGLES:
            raise ValueError(f"shingle: expected one of {minhash.SHINGLES}, got {self.shingle!r}")
        if self.ngram < 1:
            raise ValueError(f"ngram: expected at least 1, got {self.ngram}")
        weights = (self.false_positive_weight, self.false_negative_weight)
        if min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-9:
            raise ValueError(f"false_positive_weight + false_negative_weight must be 1, got {weights}")
        unknown = [c for c in self.survivor_policy if c not in SURVIVOR_CRITERIA]
        if unknown or len(set(self.survivor_policy)) != len(self.survivor_policy):
            raise ValueError(f"survivor_policy: expected distinct names from {SURVIVOR_CRITERIA}, "
                             f"got {self.survivor_policy}")
        for name in ("max_responses_per_prompt", "cc_rounds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: expected 0 or more, got {getattr(self, name)}")
        if self.bucket_limit < 2 or self.batch_size < 1:
            raise ValueError("bucket_limit must be at least 2 and batch_size at least 1")

    def hasher(self) -> minhash.MinHasher:
        return minhash.MinHasher(self.num_perm, self.seed, self.shingle, self.ngram)

    def lsh_params(self) -> Tuple[int, int]:
        """(bands, rows) for the threshold, from datasketch's optimizer."""
        return minhash.lsh_params(self.threshold, self.num_perm, self.false_positive_weight,
                                  self.false_negative_weight)

    def index_metadata(self) -> Dict[str, str]:
        """What makes signatures comparable; stored in and checked against saved indexes."""
        return {"scheme": minhash.SCHEME, "hash": minhash.HASH_NAME, "num_perm": str(self.num_perm),
                "seed": str(self.seed), "shingle": self.shingle, "ngram": str(self.ngram)}


# -- text rules ----------------------------------------------------------------------

#: Characters that make text unreadable: control characters (not tab/newline/return),
#: the replacement character, private use, zero-width and bidi controls.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff"
                         "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalize_text(text: str) -> str:
    """NFKC, lower case, whitespace collapsed: what "the same text" means for exact dedup."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def text_key(text: str) -> str:
    """Equal keys = the same normalized text."""
    return stable_hash(normalize_text(text), length=32)


def exact_key(record) -> str:
    """Records with equal keys are exact duplicates (same problem, same normalized completion)."""
    return stable_hash(record.problem_id, normalize_text(record.completion), length=32)


def readability(text: str) -> float:
    """Share of ordinary characters, to two decimals (an empty text scores 0)."""
    if not text:
        return 0.0
    return round(1.0 - len(_UNREADABLE.findall(text)) / len(text), 2)


class Candidate(typing.NamedTuple):
    """What the survivor policy looks at."""

    record_id: str
    correct: bool
    readability: float
    length: int
    published: bool = False


def candidate(record_id: str, text: str, correct: bool, published: bool = False) -> Candidate:
    return Candidate(record_id, correct, readability(text), len(text or ""), published)


def survivor_rank(cand: Candidate, policy: Sequence[str]) -> tuple:
    """Sort key: the smallest survives (published, then the policy, then the smallest id)."""
    keys = {"correct": not cand.correct, "readable": -cand.readability, "shortest": cand.length}
    return (not cand.published,) + tuple(keys[name] for name in policy) + (cand.record_id,)


def pick_survivor(records, policy: Sequence[str] = ()):
    """(survivor, duplicates) of rollouts: the best by ``policy`` (default: smallest rollout id)."""
    ordered = sorted(records, key=lambda r: survivor_rank(rollout_candidate(r), policy))
    return ordered[0], ordered[1:]


def rollout_candidate(record) -> Candidate:
    return candidate(record.rollout_id, record.completion, record.verdict == "correct")


def cluster_id(scope: str, root: str) -> str:
    return stable_hash("dedup-cluster", scope, root)


def duplicate_detail(cluster: str, survivor: str, jaccard: float, scope: str, published: bool = False) -> str:
    """The rejection detail of a duplicate: cluster, survivor, estimated Jaccard, scope."""
    detail = f"cluster={cluster} survivor={survivor} jaccard={jaccard:.3f} scope={scope}"
    return detail + " survivor_published=true" if published else detail


# -- exact dedup of responses ------------------------------------------------------------


class _SplitGroup(beam.DoFn):
    def __init__(self, stage: str):
        self.stage = stage

    def process(self, element):
        key, records = element
        survivor, duplicates = pick_survivor(list(records))
        yield survivor
        for dup in duplicates:
            beam.metrics.Metrics.counter(self.stage, "dropped_duplicate").inc()
            yield beam.pvalue.TaggedOutput(
                "rejected",
                make_rejection(dup, self.stage, "dedup_exact", "duplicate",
                               f"same normalized completion as {survivor.rollout_id} (cluster {key[:16]})"),
            )


class DedupExact(beam.PTransform):
    """Rollouts → one per (problem, normalized completion), the rest rejected."""

    def __init__(self, config: DedupConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage

    def expand(self, records):
        if not self.config.exact:
            empty = records.pipeline | "NoRejections" >> beam.Create([])
            return StageOutputs(records, empty, records.pipeline | "NoDead" >> beam.Create([]))
        out = (
            records
            | "Key" >> beam.Map(lambda r: (exact_key(r), r))
            | "Group" >> beam.GroupByKey()
            | "Split" >> beam.ParDo(_SplitGroup(self.stage)).with_outputs("rejected", main="kept")
        )
        return StageOutputs(out.kept, out.rejected, records.pipeline | "NoDead" >> beam.Create([]))


# -- graph pieces: union-find, connected components in Beam ------------------------------


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


# -- prompt scope: nodes, LSH, clusters ----------------------------------------------------


class Node(typing.NamedTuple):
    """One prompt in the dedup graph."""

    key: str  # graph node: the problem id, or PUBLISHED_PREFIX + id for an index entry
    record_id: str  # the problem id
    source: str
    exact: str  # text_key of the prompt
    signature: bytes  # minhash.to_bytes
    rank: tuple  # survivor_rank: the smallest survives
    published: bool


class Decision(typing.NamedTuple):
    """Why a problem (or a rollout) is dropped."""

    reason: str
    detail: str


def _problem_facts(values: Iterable[Tuple[str, str, bool]]) -> Tuple[str, str, bool]:
    """(prompt, source, any rollout correct) of one problem (associative: a combiner)."""
    values = list(values)
    return min(v[0] for v in values), min(v[1] for v in values), any(v[2] for v in values)


def _facts(record) -> Tuple[str, Tuple[str, str, bool]]:
    return record.problem_id, (record.prompt or "", record.source or "", getattr(record, "verdict", "") == "correct")


class _SignPrompts(beam.DoFn):
    """Batches of (problem id, (prompt, source, correct)) → Nodes."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def setup(self):
        self.hasher = self.config.hasher()

    def process(self, batch):
        signatures = self.hasher.signatures([prompt for _, (prompt, _, _) in batch])
        for (problem_id, (prompt, source, correct)), signature in zip(batch, signatures):
            rank = survivor_rank(candidate(problem_id, prompt, correct), self.config.survivor_policy)
            yield Node(problem_id, problem_id, source, text_key(prompt), minhash.to_bytes(signature), rank, False)


def index_node(row: dict, policy: Sequence[str]) -> Node:
    """A published index row as a graph node (published nodes always survive)."""
    problem_id = row["problem_id"]
    rank = survivor_rank(Candidate(problem_id, True, 1.0, 0, published=True), policy)
    return Node(PUBLISHED_PREFIX + problem_id, problem_id, row["source"], row["exact_key"], row["signature"],
                rank, True)


def _band_items(node: Node, bands: int, rows: int):
    signature = minhash.from_bytes(node.signature)
    if minhash.is_empty(signature):
        return
    for key in minhash.band_keys(signature, bands, rows):
        yield key, (node.key, node.signature)


def bucket_edges(members: Sequence[Tuple[str, bytes]], band: int, rows: int, threshold: float,
                 limit: int) -> List[Tuple[str, str]]:
    """Confirmed edges among one LSH bucket's (key, signature) members, each pair once.

    Members with the same signature are joined to the smallest of them (in band 0 only:
    equal signatures collide in every band). The distinct signatures are compared with
    the first ``limit`` of them (all of them in a bucket up to that size): a pair is an
    edge when its estimated Jaccard reaches ``threshold`` and it does not collide in an
    earlier band (that band's bucket reports it)."""
    same: Dict[bytes, List[str]] = {}
    for key, sig in sorted(set(members)):
        same.setdefault(sig, []).append(key)
    edges = [(keys[0], other) for keys in same.values() for other in keys[1:]] if band == 0 else []
    distinct = sorted((keys[0], sig) for sig, keys in same.items())
    if len(distinct) < 2:
        return edges
    keys = [key for key, _ in distinct]
    sigs = np.stack([minhash.from_bytes(sig) for _, sig in distinct])
    anchors = sigs[:limit]
    similar = minhash.jaccard_matrix(sigs, anchors) >= threshold
    rows_i, cols_j = np.nonzero(similar & (np.arange(len(sigs))[:, None] > np.arange(len(anchors))[None, :]))
    if band and len(rows_i):
        width = band * rows
        earlier = (sigs[rows_i, :width] == anchors[cols_j, :width]).reshape(len(rows_i), band, rows)
        fresh = ~earlier.all(axis=2).any(axis=1)
        rows_i, cols_j = rows_i[fresh], cols_j[fresh]
    return edges + [(keys[j], keys[i]) for i, j in zip(rows_i.tolist(), cols_j.tolist())]


class _BucketEdges(beam.DoFn):
    def __init__(self, rows: int, threshold: float, limit: int):
        self.rows, self.threshold, self.limit = rows, threshold, limit

    def process(self, element):
        key, members = element
        band = int.from_bytes(key[:2], "big")
        yield from bucket_edges(list(members), band, self.rows, self.threshold, self.limit)


def cluster_decisions(nodes: Sequence[Node], scope: str) -> List[Tuple[Node, Decision]]:
    """(loser, Decision) for every unpublished node of one cluster but its survivor."""
    ordered = sorted(nodes, key=lambda n: n.rank)
    survivor = ordered[0]
    cluster = cluster_id(scope, min(n.key for n in nodes))
    survivor_sig = minhash.from_bytes(survivor.signature)
    out = []
    for node in ordered[1:]:
        if node.published:
            continue
        reason = "duplicate" if node.exact == survivor.exact else "near_duplicate"
        similarity = minhash.jaccard(minhash.from_bytes(node.signature), survivor_sig)
        detail = duplicate_detail(cluster, survivor.record_id, similarity, scope, survivor.published)
        out.append((node, Decision(reason, detail)))
    return out


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


class _ApplyDecisions(beam.DoFn):
    """(problem id, {records, decision}) → kept records or rejections."""

    def __init__(self, stage: str, step: str):
        self.stage, self.step = stage, step

    def process(self, element):
        _, grouped = element
        decisions = list(grouped["decision"])
        for record in grouped["records"]:
            if not decisions:
                yield record
                continue
            decision = decisions[0]
            beam.metrics.Metrics.counter(self.stage, f"dropped_{decision.reason}").inc()
            yield beam.pvalue.TaggedOutput(
                REJECTED, make_rejection(record, self.stage, self.step, decision.reason, decision.detail))


class PromptNodes(beam.PTransform):
    """Records with ``problem_id``/``prompt`` (VerifiedRollout, SftExample…) → one Node per problem."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self.config = config

    def expand(self, records):
        return (
            records
            | "Facts" >> beam.Map(_facts)
            | "PerProblem" >> beam.CombinePerKey(_problem_facts)
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.config.batch_size)
            | "Sign" >> beam.ParDo(_SignPrompts(self.config))
        )


class _DedupPrompts(beam.PTransform):
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
        edges = (nodes | "Bands" >> beam.FlatMap(_band_items, bands, rows)
                 | "Buckets" >> beam.GroupByKey()
                 | "Confirm" >> beam.ParDo(_BucketEdges(rows, config.threshold, config.bucket_limit)))
        labels = edges | "Components" >> ConnectedComponents(config.cc_rounds)
        decisions = (
            {"node": nodes | "ByKey" >> beam.Map(lambda n: (n.key, n)), "root": labels}
            | "AttachRoot" >> beam.CoGroupByKey()
            | "WithRoot" >> beam.FlatMap(_with_root)
            | "Clusters" >> beam.GroupByKey()
            | "Decide" >> beam.FlatMap(_decide_cluster)
        )
        out = (
            {"records": records | "ByProblem" >> beam.Map(lambda r: (r.problem_id, r)), "decision": decisions}
            | "Join" >> beam.CoGroupByKey()
            | "Apply" >> beam.ParDo(_ApplyDecisions(self.stage, PROMPT_STEP)).with_outputs(
                REJECTED, DEAD, main="kept")
        )
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])


# -- response scope: all pairs within a prompt --------------------------------------------


def diverse_order(similarity: np.ndarray, correct: Sequence[bool], cap: int) -> List[int]:
    """Indexes of at most ``cap`` items, picked greedily: item 0 first (the best ranked),
    then each time the correct item (any item once no correct one is left) least similar
    to those picked, ties to the best ranked (the lowest index)."""
    picked = [0]
    closest = similarity[0].copy()
    while len(picked) < min(cap, len(correct)):
        left = [i for i in range(len(correct)) if i not in picked]
        best = min(left, key=lambda i: (not correct[i], closest[i], i))
        picked.append(best)
        closest = np.maximum(closest, similarity[best])
    return picked


def response_decisions(records: Sequence, signatures: np.ndarray, config: DedupConfig) -> List[Optional[Decision]]:
    """One decision per rollout of one prompt (None: kept)."""
    cands = [rollout_candidate(r) for r in records]
    keys = [normalize_text(r.completion) for r in records]
    similarity = minhash.jaccard_matrix(signatures, signatures)
    ids = [c.record_id for c in cands]
    text_ids = np.unique(keys, return_inverse=True)[1]
    linked = (similarity >= config.threshold) | (text_ids[:, None] == text_ids[None, :])
    roots = union_find_roots((ids[i], ids[j]) for i, j in np.argwhere(np.triu(linked, 1)).tolist())
    clusters: Dict[str, List[int]] = {}
    for index, rid in enumerate(ids):
        clusters.setdefault(roots.get(rid, rid), []).append(index)
    decisions: List[Optional[Decision]] = [None] * len(records)
    survivors = []
    for root, members in clusters.items():
        members.sort(key=lambda i: survivor_rank(cands[i], config.survivor_policy))
        best = members[0]
        survivors.append(best)
        for index in members[1:]:
            reason = "duplicate" if keys[index] == keys[best] else "near_duplicate"
            detail = duplicate_detail(cluster_id("response", root), ids[best], similarity[index, best], "response")
            decisions[index] = Decision(reason, detail)
    cap = config.max_responses_per_prompt
    if cap and len(survivors) > cap:
        survivors.sort(key=lambda i: survivor_rank(cands[i], config.survivor_policy))
        sub = similarity[np.ix_(survivors, survivors)]
        picked = {survivors[i] for i in diverse_order(sub, [cands[i].correct for i in survivors], cap)}
        for index in survivors:
            if index not in picked:
                closest = max(similarity[index, p] for p in picked)
                decisions[index] = Decision("response_cap", f"cap={cap} survivors={len(survivors)} "
                                                            f"max_jaccard_to_kept={closest:.3f}")
    return decisions


class _DedupResponseGroups(beam.DoFn):
    def __init__(self, config: DedupConfig, stage: str):
        self.config, self.stage = config, stage

    def setup(self):
        self.hasher = self.config.hasher()

    def process(self, element):
        _, records = element
        records = sorted(records, key=lambda r: r.rollout_id)
        try:
            signatures = self.hasher.signatures([r.completion or "" for r in records])
            decisions = response_decisions(records, signatures, self.config)
        except Exception as exc:  # noqa: BLE001 - a bad group is dead-lettered, never a crash
            for record in records:
                yield beam.pvalue.TaggedOutput(
                    DEAD, make_dead_letter(self.stage, RESPONSE_STEP, error_text(exc), record=record))
            return
        for record, decision in zip(records, decisions):
            if decision is None:
                yield record
                continue
            beam.metrics.Metrics.counter(self.stage, f"dropped_{decision.reason}").inc()
            yield beam.pvalue.TaggedOutput(
                REJECTED, make_rejection(record, self.stage, RESPONSE_STEP, decision.reason, decision.detail))


class _DedupResponses(beam.PTransform):
    def __init__(self, config: DedupConfig, stage: str):
        super().__init__()
        self.config, self.stage = config, stage

    def expand(self, records):
        out = (
            records
            | "ByProblem" >> beam.Map(lambda r: (r.problem_id, r))
            | "Group" >> beam.GroupByKey()
            | "Dedup" >> beam.ParDo(_DedupResponseGroups(self.config, self.stage)).with_outputs(
                REJECTED, DEAD, main="kept")
        )
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])


class DedupMinHash(beam.PTransform):
    """VerifiedRollouts → StageOutputs: duplicate prompts (global, incl. published
    ones from ``index_paths``) and then duplicate responses within a prompt removed."""

    def __init__(self, config: DedupConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage
        if config.index_paths:
            check_indexes(config)

    def expand(self, records):
        parts = []
        kept = records
        if self.config.prompts:
            prompts = kept | "Prompts" >> _DedupPrompts(self.config, self.stage)
            parts.append(prompts)
            kept = prompts.kept
        if self.config.responses:
            responses = kept | "Responses" >> _DedupResponses(self.config, self.stage)
            parts.append(responses)
            kept = responses.kept
        empty = records.pipeline | "Empty" >> beam.Create([])
        rejected = [p.rejected for p in parts] or [empty]
        dead = [p.dead for p in parts] or [empty]
        return StageOutputs(kept, rejected | "Rejected" >> beam.Flatten(), dead | "Dead" >> beam.Flatten())


# -- persistent signature index ------------------------------------------------------------


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
    from apache_beam.io.filesystems import FileSystems

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
