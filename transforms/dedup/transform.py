"""Dedup: exact and near-duplicate removal that is global, deterministic and fast.

Two transforms over VerifiedRollouts, each returning ``StageOutputs(kept, rejected, dead)``:

* ``DedupExact`` (``transforms.dedup.exact``) — responses within a prompt whose
  normalized completion is the same: the smallest rollout id survives, the others are
  rejected (step ``dedup_exact``, reason ``duplicate``).
* ``DedupMinHash`` (here) — MinHash near-duplicates (``transforms.dedup.minhash``:
  datasketch-equal signatures computed in bulk), in two scopes:

  - **prompts, globally** (``transforms.dedup.prompts``, step ``dedup_prompts``): one
    node per problem (``nodes``); every signature emits one ``(band, band values)`` key
    per band, ``GroupByKey`` gathers the candidates, a candidate pair becomes an edge
    when its estimated Jaccard reaches the threshold (``lsh``; equal signatures, e.g.
    the same normalized prompt, join directly), ``ConnectedComponents`` labels the
    clusters (``components``), and one survivor per cluster is chosen by the survivor
    policy (``survivor``). Every rollout of a losing problem is rejected. Prompts with
    no word token are never near-duplicates. Signatures of a published corpus
    (``index_paths``, written by ``WriteSignatureIndex`` in ``index``) join the graph
    as nodes that always survive, so a later run drops what is already published.
  - **responses, within a prompt** (``transforms.dedup.responses``, step
    ``dedup_responses``): a prompt's rollouts are few, so all pairs are compared
    (exact, no LSH misses); one survivor per cluster, then at most
    ``max_responses_per_prompt`` of the survivors, the most diverse (greedy: each next
    pick is the least similar to those already picked).

Survivor policy: published first, then ``survivor_policy`` in order — ``correct``
(verified correct; a problem counts as correct when any of its rollouts is),
``readable`` (share of ordinary characters, two decimals), ``shortest`` — then the
smallest id. Rejections name the cluster and the survivor in their detail:
``cluster=<id> survivor=<id> jaccard=<estimate> scope=<prompt|response>`` with reason
``duplicate`` (same normalized text as the survivor) or ``near_duplicate``; responses
over the cap get reason ``response_cap``. Every decision goes through ``RuleStep``:
each drop is counted as ``<stage>.<step>.dropped_<reason>``. Every choice is a
function of the input set (sorted ids, min labels, no input order, no ``hash()``), so
the kept set is the same under any input order, runner or worker count.
"""
from __future__ import annotations

import apache_beam as beam

from transforms.core import StageOutputs
from transforms.dedup.config import DedupConfig
from transforms.dedup.index import check_indexes
from transforms.dedup.prompts import DedupPrompts
from transforms.dedup.responses import DedupResponses


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
            prompts = kept | "Prompts" >> DedupPrompts(self.config, self.stage)
            parts.append(prompts)
            kept = prompts.kept
        if self.config.responses:
            responses = kept | "Responses" >> DedupResponses(self.config, self.stage)
            parts.append(responses)
            kept = responses.kept
        empty = records.pipeline | "Empty" >> beam.Create([])
        rejected = [p.rejected for p in parts] or [empty]
        dead = [p.dead for p in parts] or [empty]
        return StageOutputs(kept, rejected | "Rejected" >> beam.Flatten(), dead | "Dead" >> beam.Flatten())
