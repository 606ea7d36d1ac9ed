"""configs/demo.yaml is configs/r1.yaml at laptop scale: R1's quotas by domain over
sources that need no download (generated maths and logic, a few code problems and
conversations shipped in the package as ``pkg:`` paths). Its code problems really run
in the sandbox (the references pass, a wrong answer fails), and the demo with the fake
teacher writes rows of both kinds, math and general among them, with the code domain's
shortfall on the card, counted by reason (the tiny model itself runs in tests/test_e2e.py)."""
import glob
import json
import os
import re
import shutil

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.config import load_config
from tests.factories import make_rollout
from tests.pipelines.test_recipes import FAKE_TEACHER
from transforms.core.readers import expand_inputs, package_path, read_jsonl
from transforms.ingest.presets import to_problem
from transforms.text.trivial import is_trivial
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.sandbox.runner import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
R1 = os.path.join(ROOT, "configs", "r1.yaml")


def _problems(source):
    """The problems of a ``pkg:`` source, read and mapped as ingest does."""
    [(fmt, path)] = expand_inputs(source.path, source.format, owner=source.name)
    assert fmt == "jsonl"
    return [to_problem(record, source, file, line, 1, "cfg") for file, line, record in read_jsonl(path, 1_000_000)]


def test_the_demo_is_r1s_mix_at_laptop_scale():
    demo, r1 = load_config(cli.DEMO_CONFIG), load_config(R1)
    assert demo.mix.quota_field == r1.mix.quota_field == "domain"
    assert demo.mix.targets() == {"reasoning": 63, "knowledge": 18}  # R1's 626,933 + 177,812 × 0.0001
    shares, r1_shares = demo.mix.shares("reasoning"), r1.mix.shares("reasoning")
    assert set(shares) == set(r1_shares) - {"stem"}  # the demo has no STEM source
    rest = sum(r1_shares[d] for d in shares)
    assert all(abs(shares[d] - r1_shares[d] / rest) < 0.001 for d in shares), (shares, r1_shares)
    assert demo.mix.shares("knowledge") == {"general": 1.0}
    assert {(s.kind, s.domain) for s in demo.sources} == {
        ("reasoning", "math"), ("reasoning", "logic"), ("reasoning", "code"), ("knowledge", "general")}
    assert {s.generator for s in demo.sources if s.domain == "logic"} == {"countdown", "sequence"}
    # files shipped inside the package, found wherever the command runs, and installed with it
    shipped = [s.path for s in demo.sources if s.path]
    assert shipped and all(p.startswith("pkg:pipelines/demo/") for p in shipped)
    assert all(os.path.isfile(package_path(p)) for p in shipped)
    assert '"pipelines": ["demo/*.jsonl"]' in open(os.path.join(ROOT, "setup.py")).read()


def test_pkg_paths_are_checked(tmp_path):
    with pytest.raises(ValueError, match="source 'x': 'pkg:no_such_package_here/a.jsonl': no installed package 'no_such_package_here'"):
        expand_inputs("pkg:no_such_package_here/a.jsonl", owner="source 'x'")
    with pytest.raises(ValueError, match="expected pkg:PACKAGE/PATH"):
        expand_inputs("pkg:pipelines/../setup.py", owner="source 'x'")
    with pytest.raises(ValueError, match="matches no file"):
        expand_inputs("pkg:pipelines/demo/nothing.jsonl", owner="source 'x'")
    # the path is the same from any working directory
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert expand_inputs("pkg:pipelines/demo/code.jsonl") == [
            ("jsonl", os.path.join(ROOT, "pipelines", "demo", "code.jsonl"))]
    finally:
        os.chdir(here)


def test_the_shipped_conversations_import_as_general_knowledge():
    source = next(s for s in load_config(cli.DEMO_CONFIG).sources if s.name == "general")
    problems = _problems(source)
    assert len(problems) >= 6 and {(p.kind, p.domain) for p in problems} == {("knowledge", "general")}
    assert all(p.reference_answer is None and json.loads(p.metadata)["verify"] == "none" for p in problems)
    assert len({p.problem_id for p in problems}) == len(problems)
    prompts = [p.prompt for p in problems]
    assert {"Hello!", "你好"} <= set(prompts) and all(is_trivial(p) for p in ("Hello!", "你好"))
    assert any(not is_trivial(p) for p in prompts)  # instructions too, not only small talk


def test_the_shipped_code_problems_really_run_in_the_sandbox():
    """Each shipped problem's reference solution passes its tests in the real sandbox, a
    wrong one fails them, and an answer without code (the fake teacher's) has none to run."""
    if shutil.which("bwrap") is None or Sandbox().unavailable():
        pytest.skip("the bubblewrap sandbox can't run here")
    source = next(s for s in load_config(cli.DEMO_CONFIG).sources if s.domain == "code")
    problems = _problems(source)
    assert len(problems) >= 3 and all(p.domain == "code" and p.tests for p in problems)
    references = {json.loads(line)["task_id"]: json.loads(line)["code"]
                  for line in open(package_path(source.path), encoding="utf-8")}
    sandbox = Sandbox()

    def verdict(problem, answer):
        rollout = make_rollout(**{f: getattr(problem, f) for f in problem._fields if f in
                                  ("problem_id", "source", "source_id", "domain", "kind", "prompt",
                                   "reference_answer", "tests", "metadata")})
        rollout = rollout._replace(completion=answer, answer=answer)
        return verify_rollout_fields(rollout, verifier=None, sandbox=sandbox)

    for problem in problems:
        right = verdict(problem, f"Here it is.\n```python\n{references[problem.source_id]}\n```")
        assert (right["verdict"], right["verifier"]) == ("correct", "sandbox"), (problem.source_id, right)
        name = re.match(r"def (\w+)\(", references[problem.source_id]).group(1)
        wrong = verdict(problem, f"```python\ndef {name}(*args):\n    return None\n```")
        assert wrong["verdict"] == "incorrect", (problem.source_id, wrong)
        assert verdict(problem, "The answer is \\boxed{42}.")["verdict"] == "no_answer"


def _rows(pattern: str) -> list:
    return [row for path in sorted(glob.glob(pattern)) for row in pq.read_table(path).to_pylist()]


@pytest.mark.slow
def test_the_demo_writes_both_kinds_and_reports_the_code_shortfall(tmp_path, capsys):
    """``demo`` itself (its default config, from another folder) with the fake teacher,
    which writes no code: math and general rows, knowledge among them without thinking
    (R1's empty <think>), and the code domain's shortfall on the card, by reason."""
    out = tmp_path / "demo"
    here = os.getcwd()
    try:
        os.chdir(tmp_path)  # the shipped files are found from anywhere
        code = cli.main(["demo", "--output", str(out), "-q", "--set", "sources[0].count=6"] + FAKE_TEACHER)
    finally:
        os.chdir(here)
    assert code == 0, capsys.readouterr().err
    rows = _rows(str(out / "data" / "train-*.parquet"))
    kinds = {(r["kind"], r["domain"]) for r in rows}
    assert {("reasoning", "math"), ("knowledge", "general")} <= kinds, kinds
    general = [r for r in rows if r["domain"] == "general"]
    assert {r["source"] for r in general} == {"general"} and len(general) == 8
    assert all(r["messages"][-1]["content"].startswith("<think>\n\n</think>\n\n") for r in general)
    hello = next(r for r in general if r["problem"] == "Hello!")
    assert hello["messages"][-1]["content"].endswith("Hello! How can I help you today?")
    card = (out / "README.md").read_text()
    assert re.search(r"^\| reasoning/code \| 22 \| 0 \| 0 \| 22 \|$", card, re.M), card
    why = card.split("#### Why reasoning/code falls short", 1)[1].split("####", 1)[0]
    assert re.search(r"^\| curate/filter_verdict/no_answer \| 16 \|$", why, re.M), why  # 4 problems × 4 samples
    assert re.search(r"^\| knowledge/general \| 18 \| 8 \| 8 \| 10 \|$", card, re.M), card
