"""The command line's own flags: the argparse parser of ``reasoning-corpus``.

Kept free of heavy imports so that ``--help`` and ``--version`` answer at once. Any
flag this parser does not know is left for Beam; :mod:`pipelines.flags` then refuses
the ones Beam does not know either, before anything runs.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os

DEMO_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "configs", "demo.yaml")
PROG = "reasoning-corpus"
#: The commands that run stages and write into ``--output``.
STAGE_COMMANDS = ("demo", "run", "sample", "curate", "mix")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

EPILOG = ("Any other --flag must be one Beam knows (e.g. --runner=DataflowRunner, "
          "--direct_num_workers=2); an unknown flag is an error.")


def version() -> str:
    """This package's version (from its installed metadata, else the source's)."""
    try:
        return importlib.metadata.version(PROG)
    except importlib.metadata.PackageNotFoundError:
        from publish.manifest import VERSION  # not installed: the checkout's own number

        return VERSION


class _Version(argparse.Action):
    """``--version``: looks the version up only when asked (no import otherwise)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{PROG} {version()}")
        parser.exit()


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return level


def _common(parser: argparse.ArgumentParser) -> None:
    """Flags of every command (how much it logs); then the command's own long flags are
    recorded as ``args.own_flags``: what a mistyped flag is compared with."""
    group = parser.add_argument_group("logging")
    group.add_argument("--log-level", type=_log_level, default="INFO", metavar="LEVEL",
                       help="this tool's log lines on stderr: DEBUG, INFO (default), WARNING or ERROR; "
                            "DEBUG also shows the traceback of a failure")
    group.add_argument("--quiet", "-q", action="store_true",
                       help="only warnings and errors on stderr; the stage commands print no "
                            "summary on stdout (the exit code says how it went)")
    flags = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]  # noqa: SLF001
    parser.set_defaults(own_flags=tuple(flags))


def _stage_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG, allow_abbrev=False)
    p.add_argument("--config", help="YAML config (defaults to configs/demo.yaml for demo)",
                   default=DEMO_CONFIG if name == "demo" else None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="set one config key, dotted, with VALUE read as YAML (repeatable): "
                        "--set sample.n=8 --set curate.filters.max_reasoning_tokens=4000 "
                        "--set sources[0].limit=5")
    p.add_argument("--input", help=(
        "problems file/dir/glob or hf:ORG/NAME[:SPLIT]" if name in ("demo", "run", "sample")
        else "the output folder of the previous stage"))
    p.add_argument("--output", required=name != "demo",
                   default="out/demo" if name == "demo" else None, help="output folder")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty --output folder this tool did not make "
                        "(files the run writes there are replaced)")
    if name in ("demo", "run", "sample"):
        p.add_argument("--preset", help="field preset for --input: gsm8k, math, answer, mcq")
        p.add_argument("--limit", type=int, help="at most this many problems from --input")
        p.add_argument("--estimate-cost", type=int, metavar="N", dest="estimate_cost",
                       help="sample about N problems into OUTPUT/estimate and extrapolate the teacher's "
                            "tokens, money and time to the whole plan (OUTPUT/estimate.json); nothing else runs")
    p.add_argument("--profile", metavar="[FILE:]NAME",
                   help="Beam flags of a runner profile in configs/runners.yaml (explicit flags win)")
    p.add_argument("--dry-run", action="store_true",
                   help="build the pipelines for the runner and validate its options; run nothing")
    _common(p)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG, description="Build reasoning SFT corpora: sample → curate → mix, on Apache Beam.",
        epilog=EPILOG, allow_abbrev=False)
    top.add_argument("--version", action=_Version, help="print the version and exit")
    sub = top.add_subparsers(dest="command", required=True)
    specs = {
        "demo": "run the whole pipeline on the embedded default (R1's mix by domain at laptop scale, SmolLM2 on CPU)",
        "run": "run sample → curate → mix",
        "sample": "sources → problems → n rollouts each",
        "curate": "verify, filter and deduplicate the rollouts of a sample run",
        "mix": "select SFT examples by quota from a curate run and write the corpus",
    }
    for name, help_text in specs.items():
        _stage_parser(sub, name, help_text)
    verify = sub.add_parser("verify", allow_abbrev=False,
                            help="re-check a run's manifest (DIR), or verify a rollouts file "
                                 "(--input ROLLOUTS --output VERDICTS.jsonl)",
                            description="re-check a published stage or run (and its upstream stages); with "
                                        "--input, verify the answers of a rollouts file instead")
    verify.add_argument("dir", nargs="?", help="a stage or run output folder (or its manifest.json)")
    verify.add_argument("--input", help="instead of DIR: a rollouts file (JSONL or Parquet) to verify, "
                                        "one output line per input line (see publish/verify_file.py)")
    verify.add_argument("--output", help="with --input: the verdicts file (JSONL)")
    verify.add_argument("--config", help="with --input: YAML config whose curate.verify is used")
    verify.add_argument("--workers", type=int, default=1, help="with --input: verifying threads")
    verify.add_argument("--fields", help="with --input: the file's own names for the row fields, "
                                         "e.g. prompt=question,response=code,reference_answer=gt")
    _common(verify)
    explain = sub.add_parser("explain", allow_abbrev=False,
                             help="print each filter's decision and numbers for every rollout",
                             description="one JSON object per input record, in input order: each quality "
                                         "filter's decision and the numbers behind it")
    explain.add_argument("--config", help="YAML config whose curate.filters is used (defaults otherwise)")
    explain.add_argument("--input", required=True, help="rollouts file (JSONL or Parquet)")
    _common(explain)
    report = sub.add_parser("report", help="rewrite the dataset card (README.md + plots) of a mix run",
                            description="rewrite the dataset card (README.md + plots) of a mix run",
                            allow_abbrev=False)
    report.add_argument("dir", help="the output folder of a mix (or run/demo) run")
    _common(report)
    export = sub.add_parser("export", allow_abbrev=False,
                            help="write a corpus in another trainer layout (prompt-completion, or text "
                                 "rendered with a chat template)",
                            description="write the corpus of a mix run as prompt/completion turns, or as "
                                        "text rendered with a tokenizer's chat template")
    export.add_argument("dir", help="the output folder of a mix (or run/demo) run")
    export.add_argument("--format", required=True, choices=("prompt-completion", "text"),
                        help="prompt-completion: TRL's conversational prompt/completion columns; "
                             "text: one chat-template-rendered text column")
    export.add_argument("--output", required=True, help="the export folder (data/train-*.parquet, export.json)")
    export.add_argument("--tokenizer", help="with --format text: whose chat template renders the rows "
                                            "(a local model directory, or smollm2)")
    export.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --output folder this tool did not make")
    _common(export)
    publish = sub.add_parser("publish", allow_abbrev=False,
                             help="verify a corpus folder, then upload its dataset files to a Hub dataset repo",
                             description="verify DIR (as `verify DIR` does; a folder that fails is not "
                                         "published), then create the Hugging Face dataset repository and "
                                         "upload the card, dataset_info.json, data/ and manifest.json (never "
                                         "the stage folders or the .reasoning-corpus marker)")
    publish.add_argument("dir", help="the output folder of a mix (or run/demo) run")
    publish.add_argument("--repo", required=True, metavar="ORG/NAME", help="the dataset repository")
    publish.add_argument("--private", action="store_true", help="create the repository private "
                                                                "(an existing one keeps its visibility)")
    publish.add_argument("--revision", metavar="BRANCH", help="upload to this branch (created if needed)")
    publish.add_argument("--token-env", default="HF_TOKEN", metavar="VAR",
                         help="the environment variable holding a write token (default HF_TOKEN)")
    _common(publish)
    return top


def log_level(args) -> int:
    """The logging level the flags ask for (``--quiet`` wins over ``--log-level``)."""
    return logging.WARNING if args.quiet else getattr(logging, args.log_level)
