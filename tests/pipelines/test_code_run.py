"""``reasoning-corpus run`` on the first problems of the real HumanEval and MBPP files
(through their presets: verified by their tests, no answer field needed), with a real
OpenAI-compatible loopback teacher that writes each problem's reference solution or a
mutant of it: every verdict comes from the real bubblewrap sandbox, and the corpus ends
with code rows of both sources."""
import glob
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from tests.code_support import DATA, SETS, ScriptedCodeTeacher, first_problems
from transforms.verify.sandbox.runner import Sandbox

PER_SET = 3


def _rows(pattern: str) -> list:
    return [row for path in sorted(glob.glob(pattern)) for row in pq.read_table(path).to_pylist()]


@pytest.mark.slow
def test_a_run_with_humaneval_and_mbpp_sources_ends_with_code_rows(tmp_path, capsys):
    if shutil.which("bwrap") is None or Sandbox().unavailable():
        pytest.skip("the bubblewrap sandbox can't run here")
    refs = {**first_problems("humaneval", PER_SET), **first_problems("mbpp", PER_SET)}
    config = tmp_path / "code.yaml"
    config.write_text(f"""\
seed: 3
sources:
  - {{name: humaneval, path: {os.path.join(DATA, SETS['humaneval'])}, preset: humaneval, limit: {PER_SET}}}
  - {{name: mbpp, path: {os.path.join(DATA, SETS['mbpp'])}, preset: mbpp, limit: {PER_SET}}}
sample: {{backend: openai, model: scripted, api_key_env: null, n: 4, max_tokens: 4096}}
curate:
  filters: {{max_distinct_boxed: 0}}
mix: {{reasoning: 24, knowledge: 0}}
""")
    out = tmp_path / "out"
    with ScriptedCodeTeacher(refs) as teacher:
        code = cli.main(["run", "--config", str(config), "--output", str(out), "-q",
                         "--set", f"sample.base_url={teacher.base_url}"])
    assert code == 0, capsys.readouterr().err
    problems = _rows(str(out / "sample" / "problems-*.parquet"))
    assert len(problems) == 2 * PER_SET and {p["domain"] for p in problems} == {"code"}
    assert all(p["reference_answer"] is None and json.loads(p["metadata"])["verify"] == "tests" for p in problems)
    rollouts = _rows(str(out / "sample" / "rollouts-*.parquet"))
    assert "Your code should pass tests like this one" in next(r["prompt"] for r in rollouts if r["source"] == "mbpp")
    curated = _rows(str(out / "curate" / "curated-*.parquet"))
    assert curated and {(r["verdict"], r["verifier"]) for r in curated} == {("correct", "sandbox")}
    rejected = _rows(str(out / "curate" / "rejections-*.parquet"))
    # the mutants ran and failed their tests in the sandbox
    assert any(r["reason"] == "incorrect" for r in rejected), {r["reason"] for r in rejected}
    corpus = _rows(str(out / "data" / "train-*.parquet"))
    assert {r["source"] for r in corpus} == {"humaneval", "mbpp"}
    assert all(r["domain"] == "code" and "```python" in r["messages"][-1]["content"] for r in corpus)
