"""docs/architecture.md stays true to the code: the steps it names exist in the
pipelines the launchers build, every top-level step they build is named, and every
module path it names exists."""
import os
import re

import pytest

from pipelines.config import load_config
from pipelines.dryrun import dry_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "architecture.md")
#: Top-level steps every stage has by construction (writes, merges, read-back plumbing).
PLUMBING = re.compile(r"^(Write .*|.* dead letters|.* rejections|ref_.*)$")


def _doc() -> str:
    with open(DOC, encoding="utf-8") as fh:
        return fh.read()


def named_steps(text: str) -> dict:
    """{stage: {step, ...}} from the doc's step tables: rows ``| stage | `A`, `A/B` | ...``."""
    steps: dict = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in ("sample", "curate", "mix"):
            steps.setdefault(cells[0], set()).update(re.findall(r"`([^`]+)`", cells[1]))
    return steps


@pytest.fixture(scope="module")
def built():
    """{stage: {step, ...}} of the demo config's pipelines, built and not run, with the
    judge and problem curation on so that their steps are built too."""
    config = load_config(os.path.join(ROOT, "configs", "demo.yaml"),
                         {"curate": {"verify": {"judge": {"enabled": True, "backend": "fake"}}},
                          "problems": {"enabled": True, "decontam": {
                              "benchmarks_dir": os.path.join(ROOT, "..", "shared", "data")}}})
    return {r["stage"]: set(r["steps"]) for r in dry_run("run", config, None, ["--runner=DirectRunner"])}


def test_every_named_step_is_built(built):
    named = named_steps(_doc())
    assert set(named) == {"sample", "curate", "mix"}
    missing = {stage: sorted(steps - built[stage]) for stage, steps in named.items() if steps - built[stage]}
    assert missing == {}, "docs/architecture.md names steps the pipelines don't build"


def test_every_top_level_step_is_named(built):
    named = named_steps(_doc())
    unnamed = {stage: sorted(s for s in steps if "/" not in s and not PLUMBING.match(s) and s not in named[stage])
               for stage, steps in built.items()}
    assert {k: v for k, v in unnamed.items() if v} == {}, "top-level steps missing from docs/architecture.md"


def test_every_named_module_exists():
    paths = set(re.findall(r"`((?:transforms|pipelines|publish|schemas|dags|configs)/[\w/.]+)`", _doc()))
    assert paths, "the doc names no module"
    assert sorted(p for p in paths if not os.path.exists(os.path.join(ROOT, p))) == []


def test_the_parser_reads_step_tables():
    text = "| stage | steps |\n|---|---|\n| curate | `Verify`, `Verify/PassRate` | x |\n| other | `No` | y |\n"
    assert named_steps(text) == {"curate": {"Verify", "Verify/PassRate"}}
