"""Stage 3 — mix: curated VerifiedRollouts (+ journey examples built from the curate
stage's wrong attempts) → SFT examples by quota, Parquet shards, the dataset card, manifest.

The output folder is a dataset repository (:mod:`publish.layout`): the shards under
``data/``, the card, ``dataset_info.json`` and ``manifest.json`` at its top; the stage's
own rejections, dead letters and pipeline counts go into its ``mix/`` folder.

The launcher hands the journey step what the mix stage must not import: the teacher
(the sample stage's model and chat turns, :class:`~transforms.mix.journey_teacher.JourneyTeacher`)
and the answer checker (the curate verifier, :class:`~transforms.verify.checker.AnswerChecker`),
and curate's filters, decontamination and dedup rules, which every journey passes before
it counts as built (:class:`~transforms.mix.gate.GateJourneys`). Journeys take, among the
wrong attempts curate wrote (all of them), those their own
``wrong_verdicts`` name.

Everything the launcher counts comes from columns of the outputs, the curate manifest
(its verified rollouts' statistics) or the pipeline's own counts (the wrong attempts
journeys took, the journey examples built); no rejection payload is read back."""
from __future__ import annotations

import dataclasses
import functools
import time
from typing import Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import launch, meters, progress, registry, usage
from pipelines.config import RunConfig
from publish import accounting, domains, stats
from publish import card as report
from publish.layout import DATA, MIX_DEAD_LETTERS, MIX_DIR, MIX_REJECTIONS, stage_folders
from publish.manifest import clear_stage, load_stage_manifest, relativize
from publish.selection import per_kind, selection_report
from schemas.records import DeadLetter, Rejection, SftExample, VerifiedRollout
from transforms.core import io as rio
from transforms.core.progress import tap
from transforms.decontam.benchmarks import benchmark_inputs
from transforms.decontam.matching import MatchBenchmarks
from transforms.dedup.exact import normalize_text
from transforms.dedup.responses import DedupResponseGroup
from transforms.filters.transform import ApplyFilters
from transforms.mix.attempts import takes_attempt
from transforms.mix.gate import GateJourneys, JourneyFilters, part_filter_config, whole_filter_config
from transforms.mix.journey_teacher import JourneyTeacher
from transforms.mix.prune import Pruner
from transforms.mix.transform import MixExamples
from transforms.sample.prompts import build_messages
from transforms.verify.attempts import WRONG_ATTEMPTS
from transforms.verify.checker import AnswerChecker

OUTPUTS = {DATA: SftExample, MIX_REJECTIONS: Rejection, MIX_DEAD_LETTERS: DeadLetter}
#: How many journey examples the journey step built, counted by the pipeline itself (the
#: ones mix rejects are not told apart from direct examples by any column).
JOURNEYS_BUILT = f"{MIX_DIR}/journeys_built.json"
#: How many of the curate stage's wrong attempts the journey step took (its
#: ``wrong_verdicts``), counted by the pipeline itself: the journey balance's ``in``.
JOURNEY_INPUTS = f"{MIX_DIR}/journey_inputs.json"
#: Where earlier versions kept the stage's own outputs, in the corpus folder itself: a
#: re-run into such a folder removes them (shard prefixes, then files).
OLD_OUTPUTS = ("rejections", "dead_letters")
OLD_FILES = ("journeys_built.json", "journey_inputs.json")


def journey_teacher(config: RunConfig) -> Optional[JourneyTeacher]:
    """The teacher journeys ask (the sample stage's model and chat turns), when they need one."""
    if not config.mix.journey.needs_teacher:
        return None
    return JourneyTeacher(config.sample.model_config(), functools.partial(build_messages, config=config.sample))


def pruner(config: RunConfig) -> Optional[Pruner]:
    """The pruner of ``mix.prune`` (the curate verifier and filters re-check each cut), when on."""
    if not config.mix.prune.enabled:
        return None
    return Pruner(config.mix.prune, AnswerChecker(config.curate.verify), ApplyFilters(config.curate.filters))


def journey_gate(config: RunConfig) -> GateJourneys:
    """The bar journeys meet before they count as built: curate's filters (per-part and
    whole-journey settings, see :mod:`transforms.mix.gate`), benchmark decontamination
    and exact and response dedup, each as curate's config turns it on."""
    curate = config.curate
    filters = JourneyFilters(ApplyFilters(part_filter_config(curate.filters)),
                             ApplyFilters(whole_filter_config(curate.filters)), config.mix.journey.transitions)
    for benchmark in curate.decontam.benchmarks:
        benchmark_inputs(benchmark)  # a missing benchmark file: an error here, before the run
    decontam = MatchBenchmarks(curate.decontam, "mix") if curate.decontam.benchmarks else None
    normalize = normalize_text if curate.dedup.exact else None
    responses = DedupResponseGroup(curate.dedup) if curate.dedup.responses else None
    return GateJourneys(filters, decontam, normalize, responses, config.mix.journey.transitions)


def _write_count(pcoll, count: str, write: str, path: str, key: str) -> None:
    """The pipeline's count of ``pcoll``, written as ``{key: n}`` to ``path``."""
    _ = (pcoll
         | count >> beam.combiners.Count.Globally()
         | write >> beam.Map(rio.write_json_value, path, key))


def build(pipeline, config: RunConfig, curated_files: List[str], wrong_files: List[str], out_dir: str,
          progress_dir: Optional[str] = None) -> None:
    """Read the curated rollouts (and, for journeys, the curate stage's wrong attempts), mix, write."""
    read = pipeline | "ReadCurated" >> rio.ReadStageRecords(curated_files, VerifiedRollout, "mix")
    curated = read.kept
    tap(curated, "Progress examples", progress_dir, "examples")  # live progress: see pipelines.meters
    inputs = {"curated": curated}
    side = [read]
    if wrong_files:
        # imported only for journeys: it imports Beam's RunInference, and with it torch
        from transforms.mix.journey import BuildJourneys

        journey = config.mix.journey
        wrong = (pipeline
                 | "ReadWrongAttempts" >> rio.ReadRecords(wrong_files, VerifiedRollout)
                 | "TakeWrongAttempts" >> beam.Filter(takes_attempt, journey).with_output_types(VerifiedRollout))
        _write_count(wrong, "CountJourneyInputs", "WriteJourneyInputs", rio.join(out_dir, JOURNEY_INPUTS),
                     "journey_inputs")
        built = {"correct": curated, "wrong": wrong} | "Journeys" >> BuildJourneys(
            journey, journey_teacher(config), AnswerChecker(config.curate.verify), config.seed, progress_dir)
        # a journey counts as built once it passed curate's filters, decontamination and dedup
        journeys = {"journeys": built.kept, "direct": curated} | "JourneyGate" >> journey_gate(config)
        _write_count(journeys.kept, "CountJourneys", "WriteJourneyCount", rio.join(out_dir, JOURNEYS_BUILT),
                     "journeys_built")
        inputs["journeys"] = journeys.kept
        side += [built, journeys]
    mixed = inputs | "Mix" >> MixExamples(config.mix, config.seed, pruner(config))
    registry.write_signatures(mixed.kept, config, out_dir)
    rejected, dead = launch.merge_stage_outputs(pipeline, "Mix", side + [mixed])
    launch.write_outputs({DATA: mixed.kept, MIX_REJECTIONS: rejected, MIX_DEAD_LETTERS: dead},
                         out_dir, OUTPUTS, max_rows=config.mix.max_rows_per_shard,
                         compression=config.mix.compression,
                         env_names=launch.secret_envs(config))


def wrong_attempt_files(upstream: dict, in_dir: str) -> List[str]:
    """The files of the curate stage's wrong attempts (every one it rejected).

    ValueError when the curate output has none (written before the wrong attempts were
    handed over as an output of their own): re-run curate."""
    info = upstream["outputs"].get(WRONG_ATTEMPTS)
    if info is None:
        raise ValueError(f"mix: journeys need the curate stage's {WRONG_ATTEMPTS}, but the curate stage "
                         f"at {in_dir} wrote none: re-run curate")
    return [f["path"] for f in info["files"]]


def _pipeline_count(path: str, key: str, what: str) -> int:
    if not FileSystems.exists(path):
        raise accounting.AccountingError(f"mix: {path} is missing: the pipeline did not count {what}")
    return int(rio.read_json(path)[key])


def journeys_built(path: str) -> int:
    """The pipeline's count of journey examples (``JOURNEYS_BUILT``)."""
    return _pipeline_count(path, "journeys_built", "its journeys")


def journey_inputs(path: str) -> int:
    """The pipeline's count of the wrong attempts journeys took (``JOURNEY_INPUTS``)."""
    return _pipeline_count(path, "journey_inputs", "the wrong attempts its journeys took")


def curate_verified_stats(upstream: dict, in_dir: str) -> dict:
    """The curate stage's statistics of every verified rollout (for the card)."""
    if "verified_stats" not in upstream:
        raise ValueError(f"mix: the curate manifest at {in_dir} has no verified_stats: re-run curate")
    return upstream["verified_stats"]


def _journey_line(journey_in: int, built: int, funnel: dict) -> dict:
    """The journey step's balance: every wrong attempt built, rejected or dead-lettered."""
    rejected = sum(n for key, n in funnel["rejected"].items() if key.split("/")[1].startswith("journey_"))
    dead = sum(n for key, n in funnel["dead_letters"].items() if key.startswith("mix/journey"))
    return accounting.check_balance("journey", journey_in, built=built, rejected=rejected, dead=dead)


def _rejection_files(outputs: dict, upstream_manifests: List[dict]) -> List[str]:
    """Every stage's rejection files: this stage's and those its upstream manifests list."""
    files = accounting.paths(outputs, MIX_REJECTIONS)
    for m in upstream_manifests:
        files += [f["path"] for f in m.get("outputs", {}).get("rejections", {}).get("files", [])]
    return files


def run(config: RunConfig, in_dir: str, out_dir: str, beam_args: List[str],
        sample_dir: Optional[str] = None) -> dict:
    started = time.monotonic()
    dry = launch.is_dry_run(beam_args)
    upstream = load_stage_manifest(in_dir, "curate", check=[] if dry else ["curated"])
    curated_files = [f["path"] for f in upstream["outputs"]["curated"]["files"]]
    journey = config.mix.journey
    wrong_files = wrong_attempt_files(upstream, in_dir) if journey.enabled else []
    if wrong_files and not dry:
        rio.check_stage_files(rio.manifest_path(in_dir), upstream["outputs"], [WRONG_ATTEMPTS])
    curated_in = upstream["outputs"]["curated"]["rows"]
    clear_stage(out_dir, list(OUTPUTS) + list(OLD_OUTPUTS))
    count_path, inputs_path = rio.join(out_dir, JOURNEYS_BUILT), rio.join(out_dir, JOURNEY_INPUTS)
    for path in [count_path, inputs_path] + [rio.join(out_dir, name) for name in OLD_FILES]:
        if FileSystems.exists(path):
            FileSystems.delete([path])
    registry.clear_signatures(out_dir)
    live = progress.plan("mix", out_dir, config, lambda: meters.mix(config, curated_in, wrong_files), "teacher")
    result = launch.run_pipeline(lambda p, folder: build(p, config, curated_files, wrong_files, out_dir, folder),
                                 beam_args, live)
    outputs = accounting.collect(out_dir, OUTPUTS)
    data_files = accounting.paths(outputs, DATA)
    funnel = accounting.funnel(outputs, MIX_REJECTIONS, MIX_DEAD_LETTERS)
    buckets = selection_report(outputs, config.mix, DATA, MIX_REJECTIONS)["buckets"]
    lines = {}
    journey_in = journey_inputs(inputs_path) if wrong_files else 0
    if journey.enabled:
        lines["journey"] = _journey_line(journey_in, journeys_built(count_path) if wrong_files else 0, funnel)
    lines["mix"] = accounting.check_balance(
        "mix", curated_in + journey_in, selected=outputs[DATA]["rows"],
        rejected=outputs[MIX_REJECTIONS]["rows"], dead=outputs[MIX_DEAD_LETTERS]["rows"])
    targets = config.mix.targets()

    # the funnel and accounting of the whole run, upstream stages first
    stages: Dict[str, dict] = {}
    full_funnel: Dict[str, Dict[str, int]] = {"rejected": {}, "dead_letters": {}}
    upstream_manifests = [upstream]
    if sample_dir:
        upstream_manifests.insert(0, load_stage_manifest(sample_dir, "sample"))
    for m in upstream_manifests + [{"accounting": lines, "funnel": funnel}]:
        stages.update(m.get("accounting", {}))
        for kind in full_funnel:
            full_funnel[kind].update(m.get("funnel", {}).get(kind, {}))

    manifest = launch.base_manifest("mix", config)
    journeys = rio.column_counts(data_files, ["journey"])
    manifest.update(
        counters=launch.counters(result),
        outputs=relativize(outputs, out_dir),
        rows=outputs[DATA]["rows"],
        targets=targets,
        supply=per_kind(buckets, "supply", targets),
        selected=per_kind(buckets, "selected", targets),
        shortfall={k: n for k, n in per_kind(buckets, "shortfall", targets).items() if n},
        buckets=buckets,
        by_domain=domains.domain_report(buckets, _rejection_files(outputs, upstream_manifests),
                                        [{**dataclasses.asdict(s), "domain": s.problem_domain}
                                         for s in config.sources]),
        counts={
            "by_kind": rio.column_counts(data_files, ["kind"]),
            "by_domain": rio.column_counts(data_files, ["domain"]),
            "by_source": rio.column_counts(data_files, ["source"]),
            "by_language": rio.column_counts(data_files, ["language"]),
            "by_journey": {k or "direct": n for k, n in journeys.items()},
            "by_verifier": rio.column_counts(data_files, ["verifier"]),
        },
        funnel=full_funnel,
        accounting=stages,
        stats=stats.corpus_stats(data_files, curate_verified_stats(upstream, in_dir)),
        thinking=stats.thinking_lengths(data_files, launch.counters(result)),
        examples=stats.example_rows(data_files, config.card.examples, config.card.example_chars),
        upstream={"curate": in_dir, **({"sample": sample_dir} if sample_dir else {})},
        cost_per_example=usage.per_example(config, upstream, sample_dir, launch.counters(result), started,
                                           data_files),
    )
    sample_dir = sample_dir or upstream.get("upstream", {}).get("sample")
    manifest.update(registry.mix_entry(config, sample_dir, upstream, data_files, full_funnel))
    manifest = launch.redacted(manifest, config)
    manifest["card"] = report.write_card(out_dir, manifest)
    manifest.update(usage.stage_usage("mix", config, manifest["counters"], started))
    launch.publish_manifest(out_dir, manifest, stage_folders(out_dir))  # last: makes the corpus visible
    registry.register(config, out_dir, manifest, sample_dir)  # after the manifest: published runs only
    return manifest
