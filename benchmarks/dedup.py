"""Near-duplicate removal throughput, next to datasketch on the same data in the same run.

Synthetic rollouts: ``--docs`` texts of 2-8 KB, each a random run of real solution
sentences from ../shared/data (MATH-500, GSM8K, Minerva); one in ten is a planted
near-duplicate of an earlier text (1-5 words replaced). Each phase runs in its own
child process (so its peak memory is its own) and is timed in CPU seconds of that
process, i.e. per core:

- ``signatures``: ``MinHasher.signatures`` in batches of ``DedupConfig.batch_size``
  (what the Beam DoFn runs), and the accuracy on the planted pairs: mean absolute
  error of the Jaccard estimate, ours and datasketch's own (SHA-1) MinHash;
- ``datasketch-minhash``: datasketch ``MinHash.update_batch`` (SHA-1 shingle hash) on a
  sample, and its per-shingle ``update()`` loop on a smaller one;
- ``stage``: the whole ``DedupMinHash`` (prompt scope: the texts are the prompts, one
  rollout each) on Beam's DirectRunner in this process;
- ``datasketch-lsh``: datasketch in memory: ``MinHash.update_batch`` per text,
  ``MinHashLSH.insert``, a ``query`` per text, union-find, one survivor per cluster.

It prints docs/s and MB/s per core, peak RSS, the duplicates each found, and the ratios.

    cd /work/main && .venv/bin/python benchmarks/dedup.py                 # 100,000 texts
    cd /work/main && .venv/bin/python benchmarks/dedup.py --docs 5000     # a quick run
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from transforms.core import derive_seed  # noqa: E402
from transforms.dedup import minhash  # noqa: E402
from transforms.dedup.components import union_find_roots  # noqa: E402
from transforms.dedup.config import DedupConfig  # noqa: E402
from transforms.text.shingles import shingles  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
SOURCES = (("math500/test.jsonl", "solution"), ("gsm8k/test.jsonl", "answer"),
           ("qwen_math_eval/minerva_math/test.jsonl", "solution"))
PLANTED_SHARE = 10  # one text in this many is a near-duplicate of an earlier one
SAMPLE = 2000  # texts timed best-of-N, ours and datasketch's MinHash alike
PHASES = ("signatures", "datasketch-minhash", "stage", "datasketch-lsh")


def sentence_pool():
    """Distinct sentences of real solutions (the material the texts are made of)."""
    pool = set()
    for relative, field in SOURCES:
        with open(os.path.join(DATA, relative), encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get(field) or ""
                pool.update(s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 20)
    return sorted(pool)


def is_planted(index: int) -> bool:
    return index >= PLANTED_SHARE and index % PLANTED_SHARE == 0


def make_doc(index: int, pool, seed: int = 0) -> str:
    """Text ``index``: 2-8 KB of sentences, or (one in ten) an edited copy of an earlier text."""
    rng = random.Random(derive_seed("bench-dedup", seed, index))
    if is_planted(index):
        words = make_doc(planted_source(rng, index), pool, seed).split(" ")
        for i in rng.sample(range(len(words)), rng.randint(1, 5)):
            words[i] = f"edit{rng.randrange(1000)}"
        return " ".join(words)
    target, parts, size = rng.randint(2000, 8000), [], 0
    while size < target:
        sentence = pool[rng.randrange(len(pool))]
        parts.append(sentence)
        size += len(sentence.encode("utf-8")) + 1
    return " ".join(parts)


def planted_source(rng: random.Random, index: int) -> int:
    """The earlier (odd, so never planted) text a planted one copies: the rng's first draw."""
    return rng.randrange(index - PLANTED_SHARE + 1) | 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- phases (each in its own process) --------------------------------------------------------


def best_cpu(run, repeats: int) -> float:
    """The least CPU time of ``repeats`` runs (the run least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def phase_signatures(docs, config: DedupConfig) -> dict:
    hasher = config.hasher()

    def sign(texts):
        return [hasher.signatures(texts[i : i + config.batch_size]) for i in range(0, len(texts), config.batch_size)]

    start = time.process_time()
    sigs = np.concatenate(sign(docs))
    cpu = time.process_time() - start
    sample = docs[:SAMPLE]
    best = best_cpu(lambda: sign(sample), 5)
    planted = [(i, planted_source(random.Random(derive_seed("bench-dedup", 0, i)), i))
               for i in range(len(docs)) if is_planted(i)][:300]
    ours, theirs, truth = [], [], []
    from datasketch import MinHash

    def sha1(text):
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        m.update_batch([s.encode("utf-8") for s in shingles(text, config.shingle, config.ngram)])
        return m

    for i, j in planted:
        truth.append(minhash.true_jaccard(docs[i], docs[j], config.shingle, config.ngram))
        ours.append(minhash.jaccard(sigs[i], sigs[j]))
        theirs.append(sha1(docs[i]).jaccard(sha1(docs[j])))
    truth = np.array(truth)
    return {"cpu_s": cpu, "docs": len(docs), "sample": sample_stats(sample, best),
            "error_ours": float(np.abs(np.array(ours) - truth).mean()),
            "error_datasketch": float(np.abs(np.array(theirs) - truth).mean()), "pairs": len(truth),
            "mean_true_jaccard": float(truth.mean())}


def sample_stats(sample, cpu: float) -> dict:
    return {"cpu_s": cpu, "docs": len(sample), "mb": sum(len(d.encode("utf-8")) for d in sample) / 1e6}


def phase_datasketch_minhash(docs, config: DedupConfig) -> dict:
    from datasketch import MinHash

    def batch(texts):
        for text in texts:
            m = MinHash(num_perm=config.num_perm, seed=config.seed)
            m.update_batch([s.encode("utf-8") for s in shingles(text, config.shingle, config.ngram)])

    def loop(texts):
        for text in texts:
            m = MinHash(num_perm=config.num_perm, seed=config.seed)
            for s in shingles(text, config.shingle, config.ngram):
                m.update(s.encode("utf-8"))

    sample, small = docs[:SAMPLE], docs[: SAMPLE // 10]
    return {"update_batch": sample_stats(sample, best_cpu(lambda: batch(sample), 2)),
            "update_loop": sample_stats(small, best_cpu(lambda: loop(small), 1))}


def phase_stage(count: int, pool, config: DedupConfig) -> dict:
    import apache_beam as beam

    from tests.factories import verified
    from transforms.dedup.transform import DedupMinHash

    def record(index):
        return verified(0, source="synthetic", source_id=str(index), prompt=make_doc(index, pool), completion="c")

    out_dir = tempfile.mkdtemp(prefix="bench-dedup-")
    start, wall = time.process_time(), time.time()
    with beam.Pipeline() as p:
        out = (p | beam.Create(range(count)) | "Records" >> beam.Map(record)
               | DedupMinHash(dataclass_replace(config, responses=False)))
        (out.rejected | beam.combiners.Count.Globally() | beam.Map(str)
         | beam.io.WriteToText(os.path.join(out_dir, "rejected"), shard_name_template=""))
    cpu, wall = time.process_time() - start, time.time() - wall
    with open(os.path.join(out_dir, "rejected"), encoding="utf-8") as fh:
        rejected = int(fh.read().strip())
    shutil.rmtree(out_dir)
    generation = time.process_time()
    for index in range(count):
        record(index)
    generation = time.process_time() - generation
    return {"cpu_s": cpu - generation, "wall_s": wall, "generation_cpu_s": generation, "docs": count,
            "duplicates": rejected}


def dataclass_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes)


def phase_datasketch_lsh(docs, config: DedupConfig) -> dict:
    from datasketch import MinHash, MinHashLSH

    start = time.process_time()
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm,
                     weights=(config.false_positive_weight, config.false_negative_weight))
    sketches = []
    for index, text in enumerate(docs):
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        m.update_batch([s.encode("utf-8") for s in shingles(text, config.shingle, config.ngram)])
        lsh.insert(index, m)
        sketches.append(m)
    pairs = [(f"{i:09d}", f"{j:09d}") for i, m in enumerate(sketches) for j in lsh.query(m) if j != i]
    roots = union_find_roots(pairs)
    duplicates = sum(1 for node, root in roots.items() if node != root)
    return {"cpu_s": time.process_time() - start, "docs": len(docs), "duplicates": duplicates}


def run_phase(name: str, count: int, config: DedupConfig) -> dict:
    pool = sentence_pool()
    if name == "stage":
        result = phase_stage(count, pool, config)
    else:
        docs = [make_doc(i, pool) for i in range(count)]
        result = {"signatures": phase_signatures, "datasketch-minhash": phase_datasketch_minhash,
                  "datasketch-lsh": phase_datasketch_lsh}[name](docs, config)
        result["mb"] = result.get("mb", sum(len(d.encode("utf-8")) for d in docs) / 1e6)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


# -- orchestration ---------------------------------------------------------------------------


def child(name: str, count: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    env = dict(os.environ, PYTHONPATH=ROOT, HF_HUB_OFFLINE="1")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--phase", name, "--docs", str(count),
                    "--out", out], check=True, env=env, cwd=ROOT)
    with open(out, encoding="utf-8") as fh:
        result = json.load(fh)
    os.remove(out)
    return result


def rate(result: dict) -> tuple:
    return result["docs"] / result["cpu_s"], result.get("mb", 0.0) / result["cpu_s"]


def report(results: dict, count: int) -> None:
    sig, ds, stage, lsh = (results[p] for p in PHASES)
    mb_per_doc = sig["mb"] / sig["docs"]
    rows = [
        ("signatures, ours (numpy batches), all texts", sig),
        (f"signatures, ours, first {SAMPLE} (best of 5)", dict(sig["sample"], peak_rss_mb=sig["peak_rss_mb"])),
        (f"datasketch update_batch, {SAMPLE} (best of 2)", dict(ds["update_batch"], peak_rss_mb=ds["peak_rss_mb"])),
        ("datasketch update() loop", dict(ds["update_loop"], peak_rss_mb=ds["peak_rss_mb"])),
        ("whole stage (DedupMinHash, DirectRunner)", dict(stage, mb=mb_per_doc * stage["docs"])),
        ("datasketch in memory (MinHash + MinHashLSH)", lsh),
    ]
    print(f"\n{count} synthetic texts, {sig['mb']:.1f} MB ({1e6 * mb_per_doc / 1024:.1f} KB/text), "
          f"{DedupConfig().num_perm} permutations, word {DedupConfig().ngram}-grams; CPU time per core")
    print(f"{'':48s} {'docs':>8s} {'docs/s':>9s} {'MB/s':>7s} {'peak RSS MB':>12s}")
    for name, r in rows:
        docs_s, mb_s = rate(r)
        print(f"{name:48s} {r['docs']:8d} {docs_s:9.0f} {mb_s:7.1f} {r['peak_rss_mb']:12.0f}")
    print("\nratios (docs/s per core):")
    print(f"  signatures / datasketch update_batch (same {SAMPLE} texts): "
          f"{rate(sig['sample'])[0] / rate(ds['update_batch'])[0]:6.1f}x")
    print(f"  signatures / datasketch update() loop:                   "
          f"{rate(sig['sample'])[0] / rate(ds['update_loop'])[0]:6.1f}x")
    print(f"  whole stage / datasketch in memory:                      {rate(stage)[0] / rate(lsh)[0]:6.1f}x")
    print(f"\nduplicates removed: stage {stage['duplicates']}, datasketch LSH {lsh['duplicates']} "
          f"(planted: {sum(is_planted(i) for i in range(count))})")
    print(f"Jaccard estimate, mean absolute error on {sig['pairs']} planted pairs (mean true J "
          f"{sig['mean_true_jaccard']:.2f}): ours {sig['error_ours']:.4f}, datasketch SHA-1 "
          f"{sig['error_datasketch']:.4f}")
    print(f"stage wall time {stage['wall_s']:.0f} s (record generation {stage['generation_cpu_s']:.0f} s CPU "
          "excluded from the stage's CPU time)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic texts (default 100000)")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.phase:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(run_phase(args.phase, args.docs, DedupConfig()), fh)
        return
    results = {}
    for name in PHASES:
        print(f"running {name} ...", flush=True)
        results[name] = child(name, args.docs)
    report(results, args.docs)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
