"""The ``reasoning-corpus`` command line.

    reasoning-corpus demo   [--output out/demo]              the whole pipeline on the embedded default
    reasoning-corpus run    --config C [--input P] --output D   sample → curate → mix
    reasoning-corpus sample --config C [--input P] --output D
    reasoning-corpus curate --config C --input SAMPLE_DIR --output D
    reasoning-corpus mix    --config C --input CURATE_DIR --output D
    reasoning-corpus explain --input ROLLOUTS [--config C]    each filter's decision and numbers, per record
    reasoning-corpus report DIR                              rewrite DIR's dataset card (README.md, plots)
    reasoning-corpus verify DIR                              re-check DIR's manifest (and its upstream)
    reasoning-corpus verify --input ROLLOUTS --output VERDICTS.jsonl [--config C] [--workers N]
                                                             verify a rollouts file made elsewhere

Any further ``--flag`` goes to Beam (``--runner=...``, ``--direct_running_mode=...``);
``--profile NAME`` adds a runner profile's flags from configs/runners.yaml first, and
``--dry-run`` builds and translates the stages' pipelines for the runner without running them.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

DEMO_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "configs", "demo.yaml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasoning-corpus",
        description="Build reasoning SFT corpora: sample → curate → mix, on Apache Beam.",
        epilog="Any other --flag is passed to Beam, e.g. --runner=DataflowRunner.")
    sub = parser.add_subparsers(dest="command", required=True)
    specs = {
        "demo": "run the whole pipeline on the embedded default (generated problems, SmolLM2 on CPU)",
        "run": "run sample → curate → mix",
        "sample": "sources → problems → n rollouts each",
        "curate": "verify, filter and deduplicate the rollouts of a sample run",
        "mix": "select SFT examples by quota from a curate run and write the corpus",
    }
    for name, help_text in specs.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", help="YAML config (defaults to configs/demo.yaml for demo)",
                       default=DEMO_CONFIG if name == "demo" else None)
        p.add_argument("--input", help=(
            "problems file/dir/glob or hf:ORG/NAME[:SPLIT]" if name in ("demo", "run", "sample")
            else "the output folder of the previous stage"))
        p.add_argument("--output", required=name != "demo",
                       default="out/demo" if name == "demo" else None, help="output folder")
        if name in ("demo", "run", "sample"):
            p.add_argument("--preset", help="field preset for --input: gsm8k, math, answer, mcq")
            p.add_argument("--limit", type=int, help="at most this many problems from --input")
        # not --runner-profile: argparse would take Beam's --runner=... as its abbreviation
        p.add_argument("--profile", metavar="[FILE:]NAME",
                       help="Beam flags of a runner profile in configs/runners.yaml (explicit flags win)")
        p.add_argument("--dry-run", action="store_true",
                       help="build the pipelines for the runner and validate its options; run nothing")
    verify = sub.add_parser("verify", help="re-check a run's manifest (DIR), or verify a rollouts file "
                                           "(--input ROLLOUTS --output VERDICTS.jsonl)",
                            description="re-check a published stage or run (and its upstream stages); with "
                                        "--input, verify the answers of a rollouts file instead")
    verify.add_argument("dir", nargs="?", help="a stage or run output folder (or its manifest.json)")
    verify.add_argument("--input", help="instead of DIR: a rollouts file (JSONL or Parquet) to verify, "
                                        "one output line per input line (see publish/verify_file.py)")
    verify.add_argument("--output", help="with --input: the verdicts file (JSONL)")
    verify.add_argument("--config", help="with --input: YAML config whose curate.verify is used")
    verify.add_argument("--workers", type=int, default=1, help="with --input: verifying threads")
    explain = sub.add_parser("explain", help="print each filter's decision and numbers for every rollout",
                             description="one JSON object per input record, in input order: each quality "
                                         "filter's decision and the numbers behind it")
    explain.add_argument("--config", help="YAML config whose curate.filters is used (defaults otherwise)")
    explain.add_argument("--input", required=True, help="rollouts file (JSONL or Parquet)")
    report = sub.add_parser("report", help="rewrite the dataset card (README.md + plots) of a mix run",
                            description="rewrite the dataset card (README.md + plots) of a mix run")
    report.add_argument("dir", help="the output folder of a mix (or run/demo) run")
    return parser


def _input_source(path: str, preset: Optional[str], limit: Optional[int]) -> dict:
    name = os.path.splitext(os.path.basename(path.rstrip("/")))[0] or "input"
    if path.startswith("hf:"):
        name = path[3:].split(":")[0].replace("/", "_")
    source = {"name": name, "path": path}
    if preset:
        source["preset"] = preset
    if limit is not None:
        source["limit"] = limit
    return source


def _log_progress() -> None:
    """Our stages' INFO lines (progress, tokens/s) on stderr; Beam's own stay at WARNING."""
    import logging

    class _Stderr(logging.StreamHandler):
        """Writes to whatever sys.stderr is at the time (test runners swap it)."""

        @property
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, _value):
            pass

    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    for name in ("transforms", "pipelines"):
        log = logging.getLogger(name)
        if not log.handlers:
            log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def main(argv: Optional[List[str]] = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args, beam_args = _parser().parse_known_args(argv)
    _log_progress()
    if args.command == "report":
        return _report(args.dir)
    if args.command == "explain":
        return _explain(args)
    if args.command == "verify" and args.input:
        return _verify_rollouts(args)
    if args.command == "verify":
        if not args.dir:
            print("reasoning-corpus: error: verify needs DIR, or --input ROLLOUTS --output VERDICTS.jsonl",
                  file=sys.stderr)
            return 2
        return _verify(args.dir)
    from pipelines.config import ConfigError, load_config  # after argparse: --help stays fast
    from pipelines import launch
    from publish.accounting import AccountingError, format_summary

    try:
        overrides = {}
        if args.input and args.command in ("demo", "run", "sample"):
            overrides["sources"] = [_input_source(args.input, args.preset, args.limit)]
        config = load_config(args.config, overrides)
        if args.profile:
            from pipelines.options import profile_args

            beam_args = profile_args(args.profile) + beam_args
        if args.dry_run:
            return _dry_run(args, config, beam_args)
        manifest = _dispatch(args, config, beam_args)
        launch.enforce_dead_letter_share(args.output.rstrip("/"), manifest, config)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"reasoning-corpus: error: {exc}", file=sys.stderr)
        return 2
    except AccountingError as exc:
        print(f"reasoning-corpus: accounting error: {exc}", file=sys.stderr)
        return 1
    print(format_summary(manifest.get("accounting", {}), manifest.get("funnel", {})))
    if manifest.get("stage") == "mix":
        print(f"  corpus: {manifest['rows']} examples in "
              f"{len(manifest['outputs']['data/train']['files'])} shard(s) under {args.output}/data; "
              f"targets {manifest['targets']}" +
              (f"; shortfall {manifest['shortfall']}" if manifest["shortfall"] else ""))
    return 0


def _verify(path: str) -> int:
    """``verify DIR``: re-check a published stage or run from its manifest(s)."""
    from publish.accounting import AccountingError, format_verification, verify_manifest

    try:
        checked = verify_manifest(path)
    except AccountingError as exc:
        print(f"reasoning-corpus: verify failed: {exc}", file=sys.stderr)
        return 1
    print(format_verification(checked))
    return 0


def _verify_rollouts(args) -> int:
    """``verify --input ROLLOUTS --output VERDICTS.jsonl``: a verdict line per rollout line."""
    from pipelines import verify
    from pipelines.config import ConfigError, load_config

    try:
        if not args.output:
            raise ValueError("verify --input needs --output VERDICTS.jsonl")
        config = load_config(args.config).curate.verify
        summary = verify.run(args.input, args.output, config, workers=args.workers)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"reasoning-corpus: error: {exc}", file=sys.stderr)
        return 2
    print(verify.format_summary(summary))
    return 0


def _dry_run(args, config, beam_args) -> int:
    """``--dry-run``: build every stage's pipeline for the runner; run and submit nothing."""
    from pipelines.dryrun import dry_run, format_dry_run

    print(format_dry_run(dry_run(args.command, config, args.input, beam_args)))
    return 0


def _report(out_dir: str) -> int:
    """``report DIR``: the card of a finished mix run, rendered again from its manifest."""
    from publish.card import README, report

    try:
        report(out_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"reasoning-corpus: error: {exc}", file=sys.stderr)
        return 2
    print(f"reasoning-corpus: wrote {out_dir.rstrip('/')}/{README} and its plots")
    return 0


def _dispatch(args, config, beam_args) -> dict:
    from pipelines import launch, curate, mix, sample

    out = args.output.rstrip("/")
    if args.command == "sample":
        return sample.run(config, out, beam_args)
    if args.command == "curate":
        if not args.input:
            raise ValueError("curate needs --input: the output folder of a sample run")
        return curate.run(config, args.input, out, beam_args)
    if args.command == "mix":
        if not args.input:
            raise ValueError("mix needs --input: the output folder of a curate run")
        return mix.run(config, args.input, out, beam_args)
    # demo and run: the three stages in a row (a stage over the dead-letter limit stops the run)
    launch.enforce_dead_letter_share(f"{out}/sample", sample.run(config, f"{out}/sample", beam_args), config)
    launch.enforce_dead_letter_share(f"{out}/curate", curate.run(config, f"{out}/sample", f"{out}/curate",
                                                                 beam_args), config)
    return mix.run(config, f"{out}/curate", out, beam_args, sample_dir=f"{out}/sample")


def _explain(args) -> int:
    """``reasoning-corpus explain``: each filter's decision per record, as JSON lines on stdout."""
    import json

    from pipelines.config import ConfigError, load_config
    from transforms.filters.explain import explain_file

    try:
        config = load_config(args.config)
        if not os.path.exists(args.input):
            raise FileNotFoundError(f"input not found: {args.input}")
        for obj in explain_file(config.curate.filters, args.input):
            print(json.dumps(obj, ensure_ascii=False))
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"reasoning-corpus: error: {exc}", file=sys.stderr)
        return 2
    return 0


def exit_now(code: int) -> None:
    """Exit once a command's work is done (files written, manifest last), without
    interpreter teardown, where native threads left by Beam/gRPC/torch can abort the
    process ("terminate called without an active exception", exit -6) after success."""
    import logging

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def entry_point() -> None:
    """The ``reasoning-corpus`` console script."""
    exit_now(main())


if __name__ == "__main__":
    entry_point()
