"""Sampling throughput: the Beam pipeline against the bare backend, same run.

Both sides generate the same samples (same prompts, seeds and sampling params):

- bare: the backend loaded once, ``generate`` called on batches of
  ``--batch-size`` prompts (n samples each), as ``SampleModelHandler`` does
  (:mod:`transforms.sample.handler`);
- pipeline: ``Create(problems) | GenerateRollouts`` on the DirectRunner (in
  process), its model load taken out (RunInference's own load-latency metric).

The figure of merit is pipeline output tokens/s divided by bare tokens/s (goal
>= 0.95). Both are measured on wall time; on a shared CPU machine the same ratio
on the process's CPU time (the pipeline's minus the CPU time of one more model
load, measured up front) is printed too, since it is much less sensitive to
other load. ``--rounds`` alternates the two
sides and reports every round and the median.

    .venv/bin/python benchmarks/sampling.py                               # transformers, CPU
    .venv/bin/python benchmarks/sampling.py --device cuda --dtype bfloat16 --prompts 64 --n 4 --batch-size 16
    .venv/bin/python benchmarks/sampling.py --backend vllm --model .cache/smollm2-hf

Prints one JSON object (also written to ``--json PATH``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SEED = 1234


def make_problems(count: int):
    """``count`` deterministic arithmetic problems."""
    from schemas.records import SCHEMA_VERSION, Problem
    from transforms.core import derive_seed, stable_hash

    rng = random.Random(derive_seed("benchmark", count))
    problems = []
    for i in range(count):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        problems.append(Problem(
            problem_id=stable_hash("bench", i), source="bench", source_id=str(i), domain="math",
            kind="reasoning", prompt=f"What is {a} + {b}?", reference_answer=str(a + b), choices=[],
            tests=None, difficulty="1", language="en", metadata=None, seed=SEED, config_hash="bench",
            schema_version=SCHEMA_VERSION))
    return problems


def run_bare(backend, problems, config) -> dict:
    """Generate every problem's samples with the loaded backend; tokens, seconds, texts."""
    from transforms.sample.handler import generate_for_problems

    wall, cpu = time.perf_counter(), time.process_time()
    texts = {}
    tokens = 0
    for start in range(0, len(problems), config.batch_size):
        for generated in generate_for_problems(backend, problems[start:start + config.batch_size], config, SEED):
            if generated.error:
                raise RuntimeError(generated.error)
            for index, sample in zip(generated.indices, generated.result.samples):
                texts[(generated.problem.problem_id, index)] = sample.text
                tokens += sample.completion_tokens
    return {"tokens": tokens, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
            "texts": texts}


def _metric(result, name: str, kind: str):
    import apache_beam as beam

    found = result.metrics().query(beam.metrics.MetricsFilter().with_name(name))[kind]
    return found[0].committed if found else None


def run_pipeline(problems, config, rows_path: str) -> dict:
    """The same work through GenerateRollouts on the in-process DirectRunner."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from schemas.records import to_dict
    from transforms.sample.transform import GenerateRollouts

    def write_rows(rollouts, path):
        with open(path, "w", encoding="utf-8") as fh:
            for r in rollouts:
                fh.write(json.dumps([r["problem_id"], r["sample_index"], r["completion"]]) + "\n")

    wall, cpu = time.perf_counter(), time.process_time()
    pipeline = beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"]))
    out = pipeline | beam.Create(problems) | GenerateRollouts(config, SEED, "bench")
    _ = (out.kept | beam.Map(to_dict) | beam.combiners.ToList()
         | beam.Map(write_rows, rows_path))
    result = pipeline.run()
    result.wait_until_finish()
    wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    load = _metric(result, "load_model_latency_milli_secs", "distributions")
    load_s = (load.sum / 1000.0) if load else 0.0
    texts = {}
    with open(rows_path, encoding="utf-8") as fh:
        for line in fh:
            pid, index, text = json.loads(line)
            texts[(pid, index)] = text
    return {"tokens": _metric(result, "completion_tokens", "counters"), "wall_s": wall_s - load_s,
            "load_s": load_s, "cpu_s": cpu_s, "texts": texts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="transformers", choices=["transformers", "vllm", "fake"])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--n", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)

    import torch

    from transforms.sample.config import SampleConfig, make_backend

    torch.set_num_threads(args.threads)
    config = SampleConfig(backend=args.backend, model=args.model, device=args.device, dtype=args.dtype,
                          n=args.n, max_tokens=args.max_tokens, batch_size=args.batch_size,
                          torch_threads=args.threads, temperature=0.7, top_p=0.95,
                          enforce_eager=args.backend == "vllm" and args.device == "cpu")
    problems = make_problems(args.prompts)
    backend = make_backend(config)
    backend.load()
    # what one more load costs the process (imports done): the pipeline's own load
    load_cpu = time.process_time()
    make_backend(config).load()
    load_cpu = time.process_time() - load_cpu
    run_bare(backend, problems[:1], dataclasses.replace(config, max_tokens=4))  # warm-up
    rounds = []
    rows_path = os.path.join("/tmp", f"bench-sampling-{os.getpid()}.jsonl")
    try:
        for _ in range(args.rounds):
            bare = run_bare(backend, problems, config)
            piped = run_pipeline(problems, config, rows_path)
            rounds.append({
                "bare_tok_s": bare["tokens"] / bare["wall_s"],
                "pipeline_tok_s": piped["tokens"] / piped["wall_s"],
                "ratio": (piped["tokens"] / piped["wall_s"]) / (bare["tokens"] / bare["wall_s"]),
                "cpu_ratio": (piped["tokens"] / max(piped["cpu_s"] - load_cpu, 1e-9))
                / (bare["tokens"] / bare["cpu_s"]),
                "tokens": bare["tokens"], "pipeline_tokens": piped["tokens"],
                "bare_s": bare["wall_s"], "pipeline_s": piped["wall_s"], "pipeline_load_s": piped["load_s"],
                "same_samples": bare["texts"] == piped["texts"],
            })
    finally:
        if os.path.exists(rows_path):
            os.remove(rows_path)
    report = {
        "backend": args.backend, "model": args.model, "device": args.device, "dtype": args.dtype,
        "prompts": args.prompts, "n": args.n, "max_tokens": args.max_tokens, "batch_size": args.batch_size,
        "threads": args.threads, "rounds": rounds,
        "median_ratio": statistics.median(r["ratio"] for r in rounds),
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rounds),
        "command": "benchmarks/sampling.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
