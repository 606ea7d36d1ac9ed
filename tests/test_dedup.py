"""MinHash signatures (datasketch-equal), LSH, connected components, survivor policy,
DedupMinHash on planted duplicates of real problems, determinism, the signature index.

Run as a script (``python -m tests.test_dedup OUT [beam args]``) it runs DedupMinHash
on the planted set and writes the kept ids and rejections to OUT: the determinism
test compares such runs across runner modes and PYTHONHASHSEED values.
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from datasketch import LeanMinHash, MinHashLSH

from tests import factories as f
from transforms.dedup import minhash
from transforms.dedup.transform import (
    Candidate,
    ConnectedComponents,
    DedupConfig,
    DedupMinHash,
    WriteSignatureIndex,
    Node,
    bucket_edges,
    candidate,
    check_indexes,
    cluster_decisions,
    diverse_order,
    normalize_text,
    pick_survivor,
    readability,
    response_decisions,
    survivor_rank,
    text_key,
    union_find_roots,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
THRESHOLD = 0.8
#: MinHash estimates carry noise (sd ~0.035 at 128 permutations near 0.8): pairs whose
#: true Jaccard lies within this band around the threshold are reported, not scored.
NOISE_BAND = 0.05


def read_field(relative: str, field: str, count: int, start: int = 0):
    with open(DATA / relative, encoding="utf-8") as fh:
        rows = [json.loads(line)[field] for line in fh]
    return rows[start : start + count]


# -- signatures: equal to datasketch, round-trip, accuracy ---------------------------------


SAMPLE_TEXTS = [
    "",
    "   ",
    "?!",
    "one",
    "Two words",
    "exactly five words right here",
    "İstanbul ÿ café_au_lait 𝒳𝒴 😀 mixed ＦＵＬＬwidth",
    "lone \ud800 surrogate",
    "  leading and trailing   whitespace \n\t ",
]


@pytest.fixture(scope="module")
def real_texts():
    return SAMPLE_TEXTS + read_field("math500/test.jsonl", "solution", 15) + read_field(
        "qwen_math_eval/cmath/test.jsonl", "question", 5)


@pytest.mark.parametrize("shingle,ngram", [("word", 5), ("word", 1), ("word", 13), ("char", 5), ("char", 1)])
def test_signatures_equal_datasketch(real_texts, shingle, ngram):
    hasher = minhash.MinHasher(num_perm=64, seed=3, shingle=shingle, ngram=ngram)
    ours = hasher.signatures(real_texts)
    for text, signature in zip(real_texts, ours):
        reference = minhash.datasketch_minhash(text, 64, 3, shingle, ngram)
        assert np.array_equal(reference.hashvalues, signature), (shingle, ngram, text[:40])


def test_vectorized_shingle_hashes_equal_the_reference(real_texts):
    hasher = minhash.Shingler("word", 5)
    hashes, offsets = hasher.shingle_hashes(real_texts)
    for i, text in enumerate(real_texts):
        expected = [minhash.shingle_hash32(s) for s in minhash.shingles(text, "word", 5)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected


@pytest.mark.parametrize("shingle,ngram", [("word", 2), ("word", 3), ("char", 2)])
def test_tricky_characters_hash_like_the_reference(shingle, ngram):
    """Random strings over characters whose lower case is context-dependent (Σ), longer
    (İ), astral or compatibility-mapped: each text alone and all in one batch."""
    rng = random.Random(1)
    alphabet = "aAbBÉéΣσςİiI ,.-_'’–×ǅǄΐẞß𝒳ﬁＡ\n\t"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(200)]
    hasher = minhash.Shingler(shingle, ngram)
    hashes, offsets = hasher.shingle_hashes(texts)
    for i, text in enumerate(texts):
        expected = [minhash.shingle_hash32(s) for s in minhash.shingles(text, shingle, ngram)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected
        assert hasher.shingle_hashes([text])[0].tolist() == expected


@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("  !! ", []),
    ("A b", ["a b"]),
    ("The  QUICK, brown fox!", ["the quick brown", "quick brown fox"]),
    ("x_1 + y_2", ["x_1 y_2"]),
])
def test_word_shingles(text, expected):
    assert minhash.shingles(text, "word", 3) == expected


def test_signature_round_trips_through_lean_minhash(real_texts):
    hasher = minhash.MinHasher(num_perm=128, seed=1)
    a, b = hasher.signatures([real_texts[10], real_texts[10] + " and one more sentence here."])
    assert np.array_equal(hasher.signature(real_texts[10]), a)
    lean = minhash.to_lean_minhash(a, seed=1)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    restored = LeanMinHash.deserialize(buf)
    assert np.array_equal(restored.hashvalues, a)
    reference = minhash.datasketch_minhash(real_texts[10] + " and one more sentence here.")
    assert restored.jaccard(reference) == pytest.approx(minhash.jaccard(a, b))
    assert minhash.from_bytes(minhash.to_bytes(b)).tolist() == b.tolist()


def test_estimates_are_as_accurate_as_datasketch():
    """Mean absolute Jaccard error over near-duplicate pairs of real solutions ≤ 0.03, and
    no worse than datasketch's own MinHash (SHA-1 shingle hash) on the same pairs."""
    from datasketch import MinHash

    rng = random.Random(5)
    pairs = []
    for text in read_field("math500/test.jsonl", "solution", 120):
        words = text.split()
        for i in rng.sample(range(len(words)), max(1, len(words) // 60)):
            words[i] = "edited"
        pairs.append((text, " ".join(words)))
    truth = np.array([minhash.true_jaccard(a, b) for a, b in pairs])
    sigs = minhash.MinHasher(num_perm=128, seed=1).signatures([t for pair in pairs for t in pair])
    ours = np.array([minhash.jaccard(sigs[2 * i], sigs[2 * i + 1]) for i in range(len(pairs))])

    def sha1_minhash(text):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([s.encode("utf-8") for s in minhash.shingles(text)])
        return m

    theirs = np.array([sha1_minhash(a).jaccard(sha1_minhash(b)) for a, b in pairs])
    near = truth >= 0.75
    assert near.sum() > 80
    ours_error, theirs_error = np.abs(ours - truth)[near].mean(), np.abs(theirs - truth)[near].mean()
    assert ours_error <= 0.03
    assert ours_error <= theirs_error + 0.005


def test_lsh_params_come_from_datasketch():
    lsh = MinHashLSH(threshold=0.8, num_perm=128, weights=(0.1, 0.9))
    assert DedupConfig().lsh_params() == (lsh.b, lsh.r)
    assert minhash.lsh_params(0.5, 64) == (MinHashLSH(0.5, 64).b, MinHashLSH(0.5, 64).r)


def test_band_keys_collide_exactly_when_the_band_is_equal():
    a = np.arange(12, dtype=np.uint32)
    b = a.copy()
    b[5] = 99  # band 1 of 3 bands × 4 rows differs
    keys_a, keys_b = minhash.band_keys(a, 3, 4), minhash.band_keys(b, 3, 4)
    assert [x == y for x, y in zip(keys_a, keys_b)] == [True, False, True]
    assert len(set(keys_a)) == 3  # the band index keeps bands apart


# -- plain rules: buckets, union-find, survivor policy, responses ---------------------------


def _sig(values):
    return minhash.to_bytes(np.array(values, dtype=np.uint32))


def test_bucket_edges_confirm_by_jaccard_and_report_each_pair_once():
    base = list(range(10))
    near = base[:9] + [50]  # Jaccard 0.9
    far = base[:2] + list(range(100, 108))  # Jaccard 0.2
    members = [("b", _sig(near)), ("a", _sig(base)), ("c", _sig(far)), ("a", _sig(base))]
    assert bucket_edges(members, band=1, rows=2, threshold=0.8, limit=10) == []  # collide in band 0 already
    assert bucket_edges(members, band=0, rows=2, threshold=0.8, limit=10) == [("a", "b")]
    assert bucket_edges(members, band=0, rows=2, threshold=0.95, limit=10) == []


def test_bucket_limit_compares_everyone_with_the_first_members():
    sigs = [("k%02d" % i, _sig([1] * 9 + [i])) for i in range(6)]  # all pairs Jaccard 0.9
    edges = bucket_edges(sigs, band=0, rows=1, threshold=0.8, limit=2)
    assert sorted(edges) == sorted([("k00", "k01")] + [(a, f"k{i:02d}") for i in range(2, 6) for a in ("k00", "k01")])


@pytest.mark.parametrize("pairs,expected", [
    ([], {}),
    ([("b", "a")], {"a": "a", "b": "a"}),
    ([("c", "d"), ("a", "b"), ("b", "d"), ("x", "y")], {"a": "a", "b": "a", "c": "a", "d": "a", "x": "x", "y": "x"}),
])
def test_union_find_roots(pairs, expected):
    assert union_find_roots(pairs) == expected


@pytest.mark.parametrize("text,score", [
    ("", 0.0),
    ("Plain text, with $x^2$ and ∑.", 1.0),
    ("bad\x00\x01 text", 0.8),
    ("\ufffd" * 3 + "a", 0.25),
])
def test_readability(text, score):
    assert readability(text) == score


@pytest.mark.parametrize("policy,winner", [
    ((), "a"),
    (("correct",), "c"),
    (("readable",), "b"),
    (("shortest",), "d"),
    (("correct", "shortest"), "c"),
])
def test_survivor_policy(policy, winner):
    cands = [Candidate("a", False, 0.5, 10), Candidate("b", False, 1.0, 30),
             Candidate("c", True, 0.5, 20), Candidate("d", False, 0.5, 5)]
    assert min(cands, key=lambda c: survivor_rank(c, policy)).record_id == winner
    published = Candidate("z", False, 0.0, 99, published=True)
    assert min(cands + [published], key=lambda c: survivor_rank(c, policy)).record_id == "z"


def test_pick_survivor_default_is_smallest_id_and_policy_prefers_correct():
    wrong = f.verified(0, verdict="incorrect", completion="A")
    right = f.verified(1, completion="A ")
    first = min((wrong, right), key=lambda r: r.rollout_id)
    assert pick_survivor([right, wrong])[0] is first
    assert pick_survivor([wrong, right], ("correct",))[0] is right


def test_diverse_order_prefers_correct_then_least_similar():
    similarity = np.array([[1.0, 0.9, 0.1, 0.2], [0.9, 1.0, 0.3, 0.1], [0.1, 0.3, 1.0, 0.5], [0.2, 0.1, 0.5, 1.0]])
    assert diverse_order(similarity, [True, True, True, True], 3) == [0, 2, 3]
    assert diverse_order(similarity, [True, True, False, True], 3) == [0, 3, 1]
    assert diverse_order(similarity, [True] * 4, 9) == [0, 2, 3, 1]


def test_response_decisions_cluster_then_cap():
    solutions = read_field("math500/test.jsonl", "solution", 4)
    completions = [solutions[0], solutions[0].upper() + "  ", solutions[0] + " Done.", solutions[1], solutions[2],
                   solutions[3]]
    records = sorted((f.verified(i, completion=c) for i, c in enumerate(completions)), key=lambda r: r.rollout_id)
    hasher = minhash.MinHasher()
    decisions = response_decisions(records, hasher.signatures([r.completion for r in records]), DedupConfig())
    by_text = {r.completion: d for r, d in zip(records, decisions)}
    assert by_text[solutions[0]] is None  # shortest of its cluster
    assert by_text[solutions[0].upper() + "  "].reason == "duplicate"
    assert by_text[solutions[0] + " Done."].reason == "near_duplicate"
    assert "survivor=" + records[[r.completion for r in records].index(solutions[0])].rollout_id in \
        by_text[solutions[0] + " Done."].detail
    capped = response_decisions(records, hasher.signatures([r.completion for r in records]),
                                DedupConfig(max_responses_per_prompt=2))
    reasons = sorted(d.reason if d else "kept" for d in capped)
    assert reasons == ["duplicate", "kept", "kept", "near_duplicate", "response_cap", "response_cap"]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="survivor_policy"):
        DedupConfig(survivor_policy=("longest",))
    with pytest.raises(ValueError, match="threshold"):
        DedupConfig(threshold=0.0)
    with pytest.raises(ValueError, match="sum|must be 1"):
        DedupConfig(false_positive_weight=0.5, false_negative_weight=0.6)
    with pytest.raises(ValueError, match="shingle"):
        DedupConfig(shingle="line")


# -- connected components in Beam ------------------------------------------------------------


def test_connected_components_exact_for_any_number_of_rounds():
    chain = [(f"n{i:02d}", f"n{i + 1:02d}") for i in range(30)][::-1]  # diameter 30: needs the finish
    star = [("s0", f"s{i}") for i in range(1, 5)] + [("t1", "s3")]
    edges = chain + star + [("x", "y")]
    expected = [(f"n{i:02d}", "n00") for i in range(31)] + [(n, "s0") for n in ("s0", "s1", "s2", "s3", "s4", "t1")]
    expected += [("x", "x"), ("y", "x")]
    with TestPipeline() as p:
        pcoll = p | beam.Create(edges)
        for rounds in (0, 2):
            labels = pcoll | f"CC{rounds}" >> ConnectedComponents(rounds)
            assert_that(labels, equal_to(expected), label=f"Check{rounds}")


# -- planted duplicates of real problems -------------------------------------------------------

SYNONYMS = {"find": "determine", "compute": "calculate", "number": "integer", "total": "overall",
            "each": "every", "what": "which", "value": "amount", "many": "numerous", "the": "this"}


def variants(text: str, rng: random.Random):
    """(kind, edited text): exact copy, whitespace/case, a number, two sentences swapped,
    a synonym, and a heavy rewrite (40% of the words replaced)."""
    out = [("exact", text), ("format", re.sub(r"\s+", lambda m: rng.choice(["  ", " \n", "\t "]), text).upper())]
    numbers = list(re.finditer(r"\d+", text))
    if numbers:
        m = rng.choice(numbers)
        out.append(("number", text[: m.start()] + str(int(m.group()) + rng.randint(1, 9)) + text[m.end():]))
    sentences = re.split(r"(?<=[.?!])\s+", text)
    if len(sentences) >= 3:
        i = rng.randrange(len(sentences) - 2)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
        out.append(("reorder", " ".join(sentences)))
    words = text.split(" ")
    swappable = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    if swappable:
        edited = words[:]
        i = rng.choice(swappable)
        edited[i] = SYNONYMS[edited[i].lower()]
        out.append(("paraphrase", " ".join(edited)))
    heavy = words[:]
    for i in rng.sample(range(len(heavy)), max(1, len(heavy) * 2 // 5)):
        heavy[i] = f"zz{rng.randint(0, 99)}"
    out.append(("heavy", " ".join(heavy)))
    return out


def planted(bases_per_source: int = 60, unrelated: int = 100, seed: int = 7):
    """(records, truth): bases from three real sets, planted variants in source "plant"
    (truth: problem id → (base problem id, kind, true Jaccard to the base)), and
    unrelated real problems in source "clean"."""
    rng = random.Random(seed)
    bases = (read_field("math500/test.jsonl", "problem", bases_per_source)
             + read_field("gsm8k/test.jsonl", "question", bases_per_source)
             + read_field("qwen_math_eval/olympiadbench/test.jsonl", "question", bases_per_source))
    clean = (read_field("qwen_math_eval/minerva_math/test.jsonl", "problem", unrelated // 2)
             + read_field("gsm8k/test.jsonl", "question", unrelated // 2, start=1000))
    records, truth = [], {}
    for i, text in enumerate(bases):
        base = f.verified(0, source="base", source_id=str(i), prompt=text, completion=f"base {i}")
        records.append(base)
        for kind, edited in variants(text, rng):
            plant = f.verified(0, source="plant", source_id=f"{i}-{kind}", prompt=edited, completion=f"{i} {kind}")
            records.append(plant)
            truth[plant.problem_id] = (base.problem_id, kind, minhash.true_jaccard(text, edited))
    records += [f.verified(0, source="clean", source_id=str(i), prompt=t, completion=f"clean {i}")
                for i, t in enumerate(clean)]
    return records, truth


def _rejection_row(r):
    return json.dumps([r.record_id, r.problem_id, r.step, r.reason, r.detail])


def score(records, truth, rejected):
    """(recall on sure positives, recall on all J >= t, precision, predicted pairs, false).

    A planted variant is found when it ends in its base's cluster. False: a variant
    clearly below the threshold found with its base, or two records of different
    families in one cluster whose prompts are clearly not near-duplicates."""
    prompts = {r.problem_id: r.prompt for r in records}
    family = {r.problem_id: r.problem_id for r in records}
    family.update({pid: base for pid, (base, _, _) in truth.items()})
    members = {}
    for _, problem_id, _, _, detail in rejected:
        fields = dict(part.split("=") for part in detail.split())
        members.setdefault(fields["cluster"], set()).update((problem_id, fields["survivor"]))
    cluster = {pid: cid for cid, pids in members.items() for pid in pids}
    found = {pid: pid in cluster and cluster[pid] == cluster.get(base) for pid, (base, _, _) in truth.items()}
    sure = [pid for pid, (_, _, j) in truth.items() if j >= THRESHOLD + NOISE_BAND]
    positives = [pid for pid, (_, _, j) in truth.items() if j >= THRESHOLD]
    false = [pid for pid, (_, _, j) in truth.items() if found[pid] and j < THRESHOLD - NOISE_BAND]
    for pids in members.values():
        for a in pids:
            for b in pids:
                if a < b and family[a] != family[b] and \
                        minhash.true_jaccard(prompts[a], prompts[b]) < THRESHOLD - NOISE_BAND:
                    false.append((a, b))
    predicted = sum(found.values()) + len([1 for pids in members.values() for a in pids for b in pids
                                           if a < b and family[a] != family[b]])
    recall = sum(found[p] for p in sure) / len(sure)
    strict = sum(found[p] for p in positives) / len(positives)
    return recall, strict, 1 - len(false) / max(predicted, 1), predicted, false


def test_planted_duplicates_recall_and_precision(tmp_path):
    records, truth = planted()
    out = tmp_path / "rejected.jsonl"
    with TestPipeline() as p:
        result = p | beam.Create(records) | DedupMinHash(DedupConfig(threshold=THRESHOLD, responses=False))
        result.rejected | beam.Map(_rejection_row) | beam.io.WriteToText(str(out), shard_name_template="")
        counted = ((result.kept, result.rejected) | "All" >> beam.Flatten()
                   | beam.combiners.Count.Globally())
        assert_that(counted, equal_to([len(records)]), label="NothingLost")
        assert_that(result.dead, equal_to([]), label="NoDead")
    rejected = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(step, reason) for _, _, step, reason, _ in rejected} == {
        ("dedup_prompts", "duplicate"), ("dedup_prompts", "near_duplicate")}
    recall, strict, precision, predicted, false = score(records, truth, rejected)
    sure = sum(j >= THRESHOLD + NOISE_BAND for _, _, j in truth.values())
    below = sum(j < THRESHOLD - NOISE_BAND for _, _, j in truth.values())
    print(f"\nplanted: recall {recall:.3f} on {sure} pairs with J >= t+{NOISE_BAND} ({strict:.3f} on all "
          f"J >= t), precision {precision:.3f} over {predicted} predicted pairs; {below} planted below t")
    assert sure > 300 and below > 150
    assert recall >= 0.95
    assert precision >= 0.99, false
    assert strict >= 0.9
    prompts = {r.problem_id: r.prompt for r in records}
    for _, problem_id, _, reason, detail in rejected:  # duplicate = same normalized text as the survivor
        survivor = dict(part.split("=") for part in detail.split())["survivor"]
        same_text = normalize_text(prompts[problem_id]) == normalize_text(prompts[survivor])
        assert (reason == "duplicate") == same_text
    copies = [pid for pid, (_, kind, _) in truth.items() if kind in ("exact", "format")]
    assert recall_of(truth, rejected, copies) == 1.0


def recall_of(truth, rejected, pids):
    clusters = {}
    for _, problem_id, _, _, detail in rejected:
        fields = dict(part.split("=") for part in detail.split())
        clusters[problem_id] = clusters[fields["survivor"]] = fields["cluster"]
    return sum(p in clusters and clusters[p] == clusters.get(truth[p][0]) for p in pids) / len(pids)


# -- determinism: shuffles, runner modes, PYTHONHASHSEED -----------------------------------------


def _small_planted():
    records, _ = planted(bases_per_source=12, unrelated=20, seed=11)
    extra = []  # several rollouts per problem, some near-duplicate responses
    for r in records[:40]:
        extra.append(f.verified(1, source=r.source, source_id=r.source_id, prompt=r.prompt,
                                completion=r.completion + " (again)"))
    return records + extra


def _kept_sets(p, records, shuffles: int):
    """One DedupMinHash branch per shuffle of ``records``: a PCollection of sorted kept-id tuples."""
    sets = []
    for i in range(shuffles):
        shuffled = records[:]
        random.Random(i).shuffle(shuffled)
        out = p | f"Create{i}" >> beam.Create(shuffled) | f"Dedup{i}" >> DedupMinHash(DedupConfig(cc_rounds=1))
        sets.append(out.kept | f"Ids{i}" >> beam.Map(lambda r: r.rollout_id) | f"List{i}" >> beam.combiners.ToList()
                    | f"Sort{i}" >> beam.Map(lambda ids: tuple(sorted(ids))))
    return sets | "AllSets" >> beam.Flatten()


def test_kept_set_identical_under_shuffles():
    records = _small_planted()
    with TestPipeline() as p:
        sets = _kept_sets(p, records, 2)
        assert_that(sets | beam.Distinct() | beam.combiners.Count.Globally(), equal_to([1]))
        assert_that(sets | "Sizes" >> beam.Map(len), lambda sizes: _check_sizes(sizes, len(records)), label="Sizes")


def _check_sizes(sizes, total):
    assert len(sizes) == 2 and 0 < sizes[0] < total - 20  # duplicates were dropped


@pytest.mark.slow
def test_kept_set_identical_under_ten_shuffles():
    with TestPipeline() as p:
        sets = _kept_sets(p, _small_planted(), 10)
        assert_that(sets | beam.Distinct() | beam.combiners.Count.Globally(), equal_to([1]))


def test_plain_steps_ignore_input_order():
    """The order-sensitive steps (bucket confirmation, union-find, cluster and response
    decisions) give the same result for ten shuffles of their input."""
    records = _small_planted()
    hasher = minhash.MinHasher()
    sigs = hasher.signatures([r.prompt for r in records])
    members = [(r.problem_id, minhash.to_bytes(s)) for r, s in zip(records, sigs)]
    pairs = [(a, b) for (a, _), (b, _) in zip(members, members[1:])][:30]
    nodes = [Node(r.problem_id, r.problem_id, r.source, text_key(r.prompt), minhash.to_bytes(s),
                  survivor_rank(candidate(r.problem_id, r.prompt, True), ("correct", "readable", "shortest")), False)
             for r, s in zip(records[:12], sigs[:12])]
    group = records[:8]
    results = set()
    for i in range(10):
        rng = random.Random(i)
        shuffled = [members[:], pairs[:], nodes[:], group[:]]
        for part in shuffled:
            rng.shuffle(part)
        rollouts = sorted(shuffled[3], key=lambda r: r.rollout_id)
        results.add(json.dumps([
            sorted(bucket_edges(shuffled[0], 0, 9, 0.3, 40)),
            sorted(union_find_roots(shuffled[1]).items()),
            [(n.key, d) for n, d in cluster_decisions(shuffled[2], "prompt")],
            response_decisions(rollouts, hasher.signatures([r.completion for r in rollouts]), DedupConfig()),
        ]))
    assert len(results) == 1


def run_and_dump(out_path: str, beam_args) -> None:
    """DedupMinHash over the small planted set; kept ids and rejections (sorted) to a JSON file."""
    records = _small_planted()
    rows_out = out_path + ".rows"
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        out = p | beam.Create(records) | DedupMinHash(DedupConfig(cc_rounds=1))
        kept = out.kept | beam.Map(lambda r: json.dumps(["kept", r.rollout_id]))
        rejected = out.rejected | beam.Map(lambda r: json.dumps(["rejected", r.record_id, r.reason, r.detail]))
        (kept, rejected) | beam.Flatten() | beam.io.WriteToText(rows_out, shard_name_template="")
    with open(rows_out, encoding="utf-8") as fh:
        rows = sorted(fh.read().splitlines())
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh)


def _run_subprocess(out: Path, hash_seed: str, beam_args):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    subprocess.run([sys.executable, "-m", "tests.test_dedup", str(out)] + beam_args,
                   cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_same_result_in_both_runner_modes_and_hash_seeds(tmp_path):
    run_and_dump(str(tmp_path / "in_process.json"), [])
    expected = json.loads((tmp_path / "in_process.json").read_text())
    assert any(row.startswith('["rejected"') for row in expected)
    multi = _run_subprocess(tmp_path / "multi.json", "1",
                            ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    other_seed = _run_subprocess(tmp_path / "seed.json", "12345", [])
    assert multi == expected
    assert other_seed == expected


# -- the persistent signature index --------------------------------------------------------------


def test_signature_index_removes_what_is_already_published(tmp_path):
    problems = read_field("math500/test.jsonl", "problem", 12)
    published = [f.verified(0, source="v1", source_id=str(i), prompt=t) for i, t in enumerate(problems[:6])]
    prefix = str(tmp_path / "index" / "signatures")
    config = DedupConfig()
    with TestPipeline() as p:
        p | beam.Create(published) | WriteSignatureIndex(prefix, config)
    files = check_indexes(DedupConfig(index_paths=(prefix + "*.parquet",)))
    assert files
    import pyarrow.parquet as pq

    table = pq.read_table(files[0])
    assert sorted(table.column("problem_id").to_pylist()) == sorted(r.problem_id for r in published)
    sig = minhash.from_bytes(table.column("signature").to_pylist()[0])
    assert len(minhash.to_lean_minhash(sig, config.seed)) == config.num_perm

    # a new run: 2 copies of published problems (one edited), 6 new problems
    new = [f.verified(0, source="v2", source_id=str(i), prompt=t) for i, t in enumerate(problems[6:])]
    copies = [f.verified(0, source="v2", source_id="c0", prompt=problems[0]),
              f.verified(0, source="v2", source_id="c1", prompt=problems[1] + " Show your work.")]
    expected = [(copies[0].problem_id, "duplicate", f"survivor={published[0].problem_id} "),
                (copies[1].problem_id, "near_duplicate", f"survivor={published[1].problem_id} ")]
    with TestPipeline() as p:
        out = p | beam.Create(new + copies) | DedupMinHash(DedupConfig(index_paths=(prefix + "*.parquet",)))
        assert_that(out.kept | beam.Map(lambda r: r.problem_id), equal_to([r.problem_id for r in new]))
        assert_that(out.rejected | beam.Map(lambda r: (r.problem_id, r.reason, r.detail)),
                    lambda got: _check_published(got, expected), label="Rejected")


def _check_published(got, expected):
    assert len(got) == len(expected)
    for (pid, reason, detail), (want_pid, want_reason, survivor) in zip(sorted(got), sorted(expected)):
        assert (pid, reason) == (want_pid, want_reason)
        assert survivor in detail and detail.endswith("survivor_published=true")


def test_index_made_with_other_parameters_is_refused(tmp_path):
    prefix = str(tmp_path / "sigs")
    with TestPipeline() as p:
        p | beam.Create([f.verified(0)]) | WriteSignatureIndex(prefix, DedupConfig(ngram=3))
    with pytest.raises(ValueError, match="made with"):
        DedupMinHash(DedupConfig(index_paths=(prefix + "*",)))
    with pytest.raises(ValueError, match="matches no file"):
        DedupMinHash(DedupConfig(index_paths=(str(tmp_path / "none*.parquet"),)))


if __name__ == "__main__":
    run_and_dump(sys.argv[1], sys.argv[2:])
