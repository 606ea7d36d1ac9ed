"""Flags the command line hands to Beam must be flags Beam knows.

Beam itself parses its options leniently: a flag no options class declares is
dropped with a warning in the log (``--limt 2`` would run on the whole dataset). Here
the leftover flags are parsed the way Beam parses them, with a parser holding the
flags of every ``PipelineOptions`` subclass (``CorpusOptions`` included), and
anything left over is an error that names the closest known flag.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence, Type

from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser
from apache_beam.runners.runner import create_runner

from pipelines import options as _registers_corpus_options  # noqa: F401 - CorpusOptions' flags
from pipelines.config_source import suggest


class FlagError(ValueError):
    """A flag neither this tool nor Beam knows, or a Beam flag with a bad value."""


class _Parser(_BeamArgumentParser):
    """Beam's own parser class (it knows value-provider arguments) that raises instead of
    exiting, and remembers every flag it was given."""

    def __init__(self) -> None:
        super().__init__(allow_abbrev=False, add_help=False)
        self.flags: List[str] = []

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.flags.extend(action.option_strings)
        return action

    def error(self, message):
        raise FlagError(message)


def beam_parser() -> _Parser:
    """A parser with the flags of every PipelineOptions subclass imported so far, built
    as ``PipelineOptions.get_all_options`` builds Beam's (one class per name)."""
    parser = _Parser()
    classes: Dict[str, Type[PipelineOptions]] = {}
    for cls in PipelineOptions.__subclasses__():
        classes.setdefault(str(cls), cls)
    for cls in classes.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - how Beam itself collects its flags
    return parser


def _load_runner(args: Sequence[str]) -> None:
    """Import the runner named by ``--runner`` (as Beam would when the pipeline is made),
    so that options a runner module declares (e.g. DaskRunner's) are known too."""
    names = [a.split("=", 1)[1] for a in args if a.startswith("--runner=")]
    names += [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--runner"]
    for name in names:
        try:
            create_runner(name)
        except Exception:  # noqa: BLE001 - a bad runner name is Beam's error to report later
            pass


def _leftovers(parser: _Parser, args: Sequence[str]) -> List[str]:
    _, rest = parser.parse_known_args(list(args))
    return rest


def describe(rest: Sequence[str], known: Iterable[str]) -> List[str]:
    """One problem per unknown flag (with the closest of ``known``) or stray argument."""
    known = [f.lstrip("-") for f in known if f.startswith("--")]
    problems = []
    i = 0
    while i < len(rest):
        token = rest[i]
        if token.startswith("-") and token != "-":
            flag = token.split("=", 1)[0]
            close = suggest(flag.lstrip("-"), known)
            problems.append(f"unknown flag {flag}" + (f" (did you mean --{close}?)" if close else ""))
            if "=" not in token and i + 1 < len(rest) and not rest[i + 1].startswith("-"):
                i += 1  # its value
        else:
            problems.append(f"unexpected argument {token!r}")
        i += 1
    return problems


def check_no_flags(args: Sequence[str], own: Iterable[str]) -> None:
    """For commands that run no pipeline: every leftover argument is an error."""
    problems = describe(args, own)
    if problems:
        raise FlagError("; ".join(problems))


def check_beam_flags(args: Sequence[str], own: Iterable[str] = (), origin: str = "") -> None:
    """Raise FlagError unless Beam knows every flag in ``args``.

    ``own`` are the command's own flags, offered as suggestions too (``--limt`` →
    ``--limit``); ``origin`` says where the flags came from (a runner profile)."""
    if not args:
        return
    parser = beam_parser()
    rest = _leftovers(parser, args)
    if any(a.startswith("-") for a in rest):
        _load_runner(args)
        parser = beam_parser()
        rest = _leftovers(parser, args)
    problems = describe(rest, list(own) + parser.flags)
    if problems:
        raise FlagError("; ".join(problems) + (f" (in {origin})" if origin else ""))
