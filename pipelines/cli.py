"""The ``reasoning-corpus`` command line.

    reasoning-corpus demo   [--output out/demo]              the whole pipeline on the embedded default
    reasoning-corpus run    --config C [--input P] --output D   sample → curate → mix
    reasoning-corpus sample --config C [--input P] --output D
    reasoning-corpus curate --config C --input SAMPLE_DIR --output D
    reasoning-corpus mix    --config C --input CURATE_DIR --output D
    reasoning-corpus report DIR                              rewrite DIR's dataset card (README.md, plots)

Any further ``--flag`` goes to Beam (``--runner=...``, ``--direct_running_mode=...``).
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
            else f"the output folder of the previous stage"))
        p.add_argument("--output", required=name != "demo",
                       default="out/demo" if name == "demo" else None, help="output folder")
        if name in ("demo", "run", "sample"):
            p.add_argument("--preset", help="field preset for --input: gsm8k, math, answer, mcq")
            p.add_argument("--limit", type=int, help="at most this many problems from --input")
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


def main(argv: Optional[List[str]] = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args, beam_args = _parser().parse_known_args(argv)
    if args.command == "report":
        return _report(args.dir)
    from pipelines.config import ConfigError, load_config  # after argparse: --help stays fast
    from transforms.accounting import AccountingError, format_summary

    try:
        overrides = {}
        if args.input and args.command in ("demo", "run", "sample"):
            overrides["sources"] = [_input_source(args.input, args.preset, args.limit)]
        config = load_config(args.config, overrides)
        manifest = _dispatch(args, config, beam_args)
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


def _report(out_dir: str) -> int:
    """``report DIR``: the card of a finished mix run, rendered again from its manifest."""
    from transforms.report import README, report

    try:
        report(out_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"reasoning-corpus: error: {exc}", file=sys.stderr)
        return 2
    print(f"reasoning-corpus: wrote {out_dir.rstrip('/')}/{README} and its plots")
    return 0


def _dispatch(args, config, beam_args) -> dict:
    from pipelines import curate, mix, sample

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
    # demo and run: the three stages in a row
    sample.run(config, f"{out}/sample", beam_args)
    curate.run(config, f"{out}/sample", f"{out}/curate", beam_args)
    return mix.run(config, f"{out}/curate", out, beam_args, sample_dir=f"{out}/sample")


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
