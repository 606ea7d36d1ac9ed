"""The ``reasoning-corpus`` command line.

    reasoning-corpus demo   [--output out/demo]              the whole pipeline on the embedded default
    reasoning-corpus run    --config C [--input P] --output D   sample → curate → mix
    reasoning-corpus sample --config C [--input P] --output D
    reasoning-corpus curate --config C --input SAMPLE_DIR --output D
    reasoning-corpus mix    --config C --input CURATE_DIR --output D
    reasoning-corpus explain --input ROLLOUTS [--config C]    each filter's decision and numbers, per record
    reasoning-corpus report DIR                              rewrite DIR's dataset card (README.md, plots)
    reasoning-corpus export DIR --format prompt-completion|text --output OUT [--tokenizer T]
                                                             the corpus in another trainer layout
    reasoning-corpus verify DIR                              re-check DIR's manifest (and its upstream)
    reasoning-corpus publish DIR --repo ORG/NAME [--private] [--revision BRANCH] [--token-env VAR]
                                                             verify DIR, then upload its dataset files to the Hub
    reasoning-corpus verify --input ROLLOUTS --output VERDICTS.jsonl [--config C] [--workers N]
                                                             verify a rollouts file made elsewhere

Any further ``--flag`` goes to Beam (``--runner=...``, ``--direct_running_mode=...``) if
Beam knows it; an unknown flag is an error (:mod:`pipelines.flags`). ``--profile NAME``
adds a runner profile's flags from configs/runners.yaml first, ``--dry-run`` builds and
translates the stages' pipelines for the runner without running them, ``--set KEY=VALUE``
changes one config key, and ``--overwrite`` lets a run write into a non-empty folder
the tool did not make (:mod:`pipelines.outdir`). The parser is :mod:`pipelines.args`.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Dict, List, Optional

from pipelines import logs
from pipelines.args import DEMO_CONFIG, PROG, STAGE_COMMANDS, log_level, parser

__all__ = ["DEMO_CONFIG", "main", "entry_point", "exit_now"]


def _input_source(path: str, preset: Optional[str], limit: Optional[int]) -> dict:
    name = os.path.splitext(os.path.basename(path.rstrip("/")))[0] or "input"
    if path.startswith("hf:"):
        name = path[3:].split(":")[0].replace("/", "_")
    source: Dict[str, Any] = {"name": name, "path": path}
    if preset:
        source["preset"] = preset
    if limit is not None:
        source["limit"] = limit
    return source


def _error(message: str, code: int = 2) -> int:
    print(logs.scrub(f"{PROG}: error: {message}"), file=sys.stderr)
    return code


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a run that failed, 2 a usage,
    config or input error found before anything ran)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args, extra = parser().parse_known_args(argv)
    logs.setup(log_level(args), quiet=args.quiet)
    if args.command not in STAGE_COMMANDS:
        from pipelines.flags import FlagError, check_no_flags

        try:
            check_no_flags(extra, args.own_flags)
        except FlagError as exc:
            return _error(str(exc))
    if args.command == "report":
        return _report(args.dir)
    if args.command == "publish":
        return _publish(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "export":
        return _export(args)
    if args.command == "verify" and args.input:
        return _verify_rollouts(args)
    if args.command == "verify":
        if not args.dir:
            return _error("verify needs DIR, or --input ROLLOUTS --output VERDICTS.jsonl")
        return _verify(args.dir)
    return _stage_command(args, extra)


def _stage_command(args, beam_args: List[str]) -> int:
    """demo, run, sample, curate, mix: every check first (flags, config, output folder),
    then the stages; a failed stage is named with its first errors."""
    from pipelines import failures, launch
    from pipelines.config import ConfigError, load_config  # after argparse: --help stays fast
    from pipelines.flags import FlagError, check_beam_flags
    from pipelines.options import profile_args
    from pipelines.outdir import OutputError, check_output, claim
    from publish.accounting import AccountingError, PoisonError, format_summary

    done: List[str] = []  # the stages started, for the message of a crash
    try:
        check_beam_flags(beam_args, args.own_flags)
        if args.profile:
            profile = profile_args(args.profile)
            check_beam_flags(profile, origin=f"runner profile {args.profile}")
            beam_args = profile + beam_args
        overrides = {}
        limit, preset = getattr(args, "limit", None), getattr(args, "preset", None)
        if not args.input and (limit is not None or preset):
            flag = "--limit" if limit is not None else "--preset"
            raise ValueError(f"{flag} applies to --input; for the config's sources use "
                             "--set sources[0].limit=N (or .preset=NAME)")
        if args.input and args.command in ("demo", "run", "sample"):
            overrides["sources"] = [_input_source(args.input, args.preset, args.limit)]
        config = load_config(args.config, overrides, args.settings)
        logs.protect(launch.secret_envs(config))
        out = args.output.rstrip("/")
        if args.dry_run:
            if "://" not in out:  # a dry run reaches no object store
                check_output(out, args.overwrite)
            return _dry_run(args, config, beam_args)
        claim(out, args.overwrite)
        if getattr(args, "estimate_cost", None) is not None:
            return _estimate(config, out, beam_args, args.estimate_cost, args.quiet, done)
        manifest = _dispatch(args, config, beam_args, done)
        launch.enforce_dead_letter_share(out, manifest, config)
        failures.check_corpus(out, manifest)
    except (ConfigError, FlagError, OutputError) as exc:
        return _error(str(exc))
    except (FileNotFoundError, ValueError) as exc:
        return _error(f"stage {done[-1]}: {exc}" if done else str(exc))
    except PoisonError as exc:
        return _error(str(exc), 1)
    except failures.EmptyCorpusError as exc:
        return _error(f"stage mix failed: {exc}", 1)
    except AccountingError as exc:
        print(logs.scrub(f"{PROG}: accounting error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except launch.PipelineFailed as exc:
        return _crash(args, done, str(exc))
    except Exception as exc:  # noqa: BLE001 - a user sees the stage and the error, not a traceback
        text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")[:500]
        return _crash(args, done, f"{type(exc).__name__}: {text}")
    if not args.quiet:
        print(logs.scrub(format_summary(manifest.get("accounting", {}), manifest.get("funnel", {}))))
        if manifest.get("stage") == "mix":
            print(f"  corpus: {manifest['rows']} examples in "
                  f"{len(manifest['outputs']['data/train']['files'])} shard(s) under {args.output}/data; "
                  f"targets {manifest['targets']}" +
                  (f"; shortfall {manifest['shortfall']}" if manifest["shortfall"] else ""))
            from pipelines.registry import format_entry

            line = format_entry(manifest.get("registry"))
            if line:
                print(logs.scrub(line))
        from pipelines.usage import format_usage, run_manifests  # times, tokens, cost of the stages run

        print(format_usage(run_manifests(manifest, done)))
    return 0


def _estimate(config, out: str, beam_args: List[str], problems: int, quiet: bool, done: List[str]) -> int:
    """``--estimate-cost N``: sample N problems, extrapolate to the whole plan, print it."""
    from pipelines import estimate

    done.append("sample")
    found = estimate.run(config, out, beam_args, problems)
    if not quiet:
        print(logs.scrub(estimate.format_estimate(found)))
    return 0


def _crash(args, done: List[str], text: str) -> int:
    """A stage that crashed: one line naming it (the traceback only under DEBUG)."""
    debug = args.log_level == "DEBUG" and not args.quiet
    if debug:
        print(logs.scrub(traceback.format_exc()), file=sys.stderr, end="")
    where = f"stage {done[-1]} failed: " if done else ""
    return _error(where + text + ("" if debug else " (--log-level DEBUG shows the traceback)"), 1)


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
        summary = verify.run(args.input, args.output, config, workers=args.workers,
                             fields=verify.parse_fields(args.fields))
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
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
        return _error(str(exc))
    print(f"reasoning-corpus: wrote {out_dir.rstrip('/')}/{README}, its plots and dataset_info.json")
    return 0


def _publish(args) -> int:
    """``publish DIR --repo ORG/NAME``: verify DIR, then upload its dataset files (publish/hub.py)."""
    from publish.accounting import AccountingError
    from publish.hub import PublishError, format_published, publish_folder, token_from_env

    try:
        result = publish_folder(args.dir, args.repo, token_from_env(args.token_env), private=args.private,
                                revision=args.revision)
    except ValueError as exc:
        return _error(str(exc))
    except AccountingError as exc:
        print(f"{PROG}: publish refused: {args.dir} fails verification: {exc}", file=sys.stderr)
        return 1
    except PublishError as exc:
        return _error(f"publish to {args.repo} failed: {exc}", 1)
    print(format_published(result))
    return 0


def _export(args) -> int:
    """``export DIR --format F --output OUT``: the corpus in another trainer layout."""
    from pipelines.outdir import OutputError, check_output, mark
    from publish.export import ExportError, export

    try:
        check_output(args.output, args.overwrite)
        record = export(args.dir, args.format, args.output, tokenizer=args.tokenizer,
                        before_writing=lambda: mark(args.output))
    except (ExportError, OutputError, FileNotFoundError, OSError) as exc:
        return _error(str(exc))
    print(f"{PROG}: wrote {record['rows']} {args.format} rows in {len(record['files'])} shard(s) "
          f"under {args.output.rstrip('/')}/data")
    return 0


def _dispatch(args, config, beam_args, done: List[str]) -> dict:
    """Run the command's stages; ``done`` gets each stage's name as it starts."""
    # each command imports only its own stages: the sample stage's model steps import
    # Beam's RunInference and with it torch (seconds of start-up curate and mix don't need)
    from pipelines.outdir import mark

    out = args.output.rstrip("/")
    done.append(args.command if args.command in ("sample", "curate", "mix") else "sample")
    if args.command == "sample":
        from pipelines import sample
        return sample.run(config, out, beam_args)
    if args.command == "curate":
        if not args.input:
            raise ValueError("curate needs --input: the output folder of a sample run")
        from pipelines import curate
        return curate.run(config, args.input, out, beam_args)
    if args.command == "mix":
        if not args.input:
            raise ValueError("mix needs --input: the output folder of a curate run")
        from pipelines import mix
        return mix.run(config, args.input, out, beam_args)
    from pipelines import curate, launch, mix, sample
    # demo and run: the three stages in a row (a stage over the dead-letter limit stops the run);
    # each stage folder is marked as ours when its stage starts (see pipelines.outdir)
    mark(f"{out}/sample")
    launch.enforce_dead_letter_share(f"{out}/sample", sample.run(config, f"{out}/sample", beam_args), config)
    done.append("curate")
    mark(f"{out}/curate")
    launch.enforce_dead_letter_share(f"{out}/curate", curate.run(config, f"{out}/sample", f"{out}/curate",
                                                                 beam_args), config)
    done.append("mix")
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
        return _error(str(exc))
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
