"""Stage 3 — mix: curated VerifiedRollouts (+ journey examples built from the curate
stage's wrong rollouts) → SFT examples by quota, Parquet shards, the dataset card, manifest."""
from __future__ import annotations

from typing import Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import launch

from publish.manifest import clear_stage, load_stage_manifest, relativize
from pipelines.config import RunConfig
from schemas.records import DeadLetter, Rejection, SftExample, VerifiedRollout
from publish import accounting
from transforms.core import io as rio
from publish import card as report
from transforms.mix.journey import BuildJourneys, wrong_attempts
from transforms.mix.transform import DATA, MixExamples, per_kind, selection_report

OUTPUTS = {DATA: SftExample, "rejections": Rejection, "dead_letters": DeadLetter}
#: How many wrong attempts the journey step took in, counted by the pipeline itself
#: (reading every rejection's payload on the launcher would not scale).
JOURNEY_INPUTS = "journey_inputs.json"


def build(pipeline, config: RunConfig, curated_files: List[str], wrong_files: List[str], out_dir: str) -> None:
    """Read the curated rollouts (and, for journeys, the curate rejections), mix, write."""
    curated = pipeline | "ReadCurated" >> rio.ReadRecords(curated_files, VerifiedRollout)
    inputs = {"curated": curated}
    side = []
    if wrong_files:
        journey = config.mix.journey
        wrong = (
            pipeline
            | "ReadCurateRejections" >> rio.ReadRecords(wrong_files, Rejection)
            | "WrongAttempts" >> beam.FlatMap(wrong_attempts, journey).with_output_types(VerifiedRollout)
        )
        _ = (wrong
             | "CountWrongAttempts" >> beam.combiners.Count.Globally()
             | "WriteWrongAttemptCount" >> beam.Map(rio.write_json_value, rio.join(out_dir, JOURNEY_INPUTS),
                                                    "wrong_attempts"))
        journeys = {"correct": curated, "wrong": wrong} | "Journeys" >> BuildJourneys(
            journey, config.sample, config.curate.verify, config.seed)
        inputs["journeys"] = journeys.kept
        side.append(journeys)
    mixed = inputs | "Mix" >> MixExamples(config.mix, config.seed)
    rejected, dead = launch.merge_stage_outputs(pipeline, "Mix", side + [mixed])
    launch.write_outputs({DATA: mixed.kept, "rejections": rejected, "dead_letters": dead},
                         out_dir, OUTPUTS, max_rows=config.mix.max_rows_per_shard,
                         compression=config.mix.compression)


def journey_inputs(path: str) -> int:
    """The pipeline's count of wrong attempts (``JOURNEY_INPUTS``)."""
    if not FileSystems.exists(path):
        raise accounting.AccountingError(f"mix: {path} is missing: the pipeline did not count its wrong attempts")
    return int(rio.read_json(path)["wrong_attempts"])


def run(config: RunConfig, in_dir: str, out_dir: str, beam_args: List[str],
        sample_dir: Optional[str] = None) -> dict:
    upstream = load_stage_manifest(in_dir, "curate")
    curated_files = [f["path"] for f in upstream["outputs"]["curated"]["files"]]
    curate_rejections = [f["path"] for f in upstream["outputs"]["rejections"]["files"]]
    wrong_files = curate_rejections if config.mix.journey.enabled else []
    curated_in = upstream["outputs"]["curated"]["rows"]
    clear_stage(out_dir, list(OUTPUTS))
    count_path = rio.join(out_dir, JOURNEY_INPUTS)
    if FileSystems.exists(count_path):
        FileSystems.delete([count_path])
    launch.run_pipeline(lambda p: build(p, config, curated_files, wrong_files, out_dir), beam_args)
    outputs = accounting.collect(out_dir, OUTPUTS)
    data_files = accounting.paths(outputs, DATA)
    funnel = accounting.funnel(outputs)
    picked = selection_report(outputs, config.mix, DATA)
    lines = {}
    journey_in = journey_inputs(count_path) if wrong_files else 0
    if config.mix.journey.enabled:
        lines["journey"] = accounting.check_balance(
            "journey", journey_in, built=picked["journeys_built"], rejected=picked["journey_rejected"],
            dead=sum(n for key, n in funnel["dead_letters"].items() if key.startswith("mix/journey")))
    lines["mix"] = accounting.check_balance(
        "mix", curated_in + journey_in, selected=outputs[DATA]["rows"],
        rejected=outputs["rejections"]["rows"], dead=outputs["dead_letters"]["rows"])
    targets = config.mix.targets()
    buckets = picked["buckets"]

    # the funnel and accounting of the whole run, upstream stages first
    stages: Dict[str, dict] = {}
    full_funnel = {"rejected": {}, "dead_letters": {}}
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
        outputs=relativize(outputs, out_dir),
        rows=outputs[DATA]["rows"],
        targets=targets,
        supply=per_kind(buckets, "supply", targets),
        selected=per_kind(buckets, "selected", targets),
        shortfall={k: n for k, n in per_kind(buckets, "shortfall", targets).items() if n},
        buckets=buckets,
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
        stats=report.corpus_stats(data_files, report.verified_rows(curated_files, curate_rejections)),
        upstream={"curate": in_dir, **({"sample": sample_dir} if sample_dir else {})},
    )
    manifest["card"] = report.write_card(out_dir, manifest)
    rio.write_json(rio.join(out_dir, rio.MANIFEST), manifest)  # last: makes the corpus visible
    return manifest
