"""DedupConfig: which dedup passes run, the MinHash and LSH parameters, the survivor policy."""
from __future__ import annotations

import dataclasses
from typing import Dict, Tuple

from transforms.dedup import minhash
from transforms.text import shingles

#: Criteria the survivor policy may name, in any order (the smallest id always breaks ties).
SURVIVOR_CRITERIA = ("correct", "readable", "shortest")


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
        if self.shingle not in shingles.SHINGLES:
            raise ValueError(f"shingle: expected one of {shingles.SHINGLES}, got {self.shingle!r}")
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
        return {"scheme": minhash.SCHEME, "hash": shingles.HASH_NAME, "num_perm": str(self.num_perm),
                "seed": str(self.seed), "shingle": self.shingle, "ngram": str(self.ngram)}
