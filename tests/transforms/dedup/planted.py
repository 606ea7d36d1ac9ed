"""Planted duplicates of real problems (three real sets, edited copies with known true
Jaccard, unrelated real problems) and how well a dedup run found them: shared by the
prompt-scope and determinism tests."""
from __future__ import annotations

import random
import re

from tests import factories as f
from tests.transforms.text.samples import read_field
from transforms.dedup import minhash

THRESHOLD = 0.8
#: MinHash estimates carry noise (sd ~0.035 at 128 permutations near 0.8): pairs whose
#: true Jaccard lies within this band around the threshold are reported, not scored.
NOISE_BAND = 0.05

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


def recall_of(truth, rejected, pids):
    clusters = {}
    for _, problem_id, _, _, detail in rejected:
        fields = dict(part.split("=") for part in detail.split())
        clusters[problem_id] = clusters[fields["survivor"]] = fields["cluster"]
    return sum(p in clusters and clusters[p] == clusters.get(truth[p][0]) for p in pids) / len(pids)
