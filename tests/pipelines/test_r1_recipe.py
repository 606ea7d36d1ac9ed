"""configs/r1.yaml: R1's SFT mix as quotas by domain (R1 paper v2, Table 5), with the
sources a user points it at; the real public files in ../shared/data put in place of its
placeholders, a dry run of ``run`` builds every stage with the fake teacher."""
import os
import re

from pipelines import cli
from pipelines.config import load_config
from tests.pipelines.test_recipes import FAKE_TEACHER, data_file
from transforms.mix.select import bucket_targets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
R1 = os.path.join(ROOT, "configs", "r1.yaml")
#: R1's SFT examples by domain.
TABLE5 = {"reasoning/direct/math": 395_285, "reasoning/direct/code": 211_129, "reasoning/direct/stem": 10_124,
          "reasoning/direct/logic": 10_395, "knowledge/direct/general": 177_812}
#: config key of each placeholder path → the real file in ../shared/data with that layout.
SUBSTITUTES = {
    "sources[0].path": "gsm8k/train.jsonl",
    "sources[1].path": "math500/test.jsonl",
    "sources[2].path": "humaneval/HumanEval.jsonl",
    "sources[3].path": "mbpp/sanitized-mbpp.jsonl",
    "sources[4].path": "qwen_math_eval/mmlu_stem/test.jsonl",
    "sources[7].path": "alpaca/alpaca_5000.jsonl",
    "curate.decontam.benchmarks[0].path": "math500/test.jsonl",
    "curate.decontam.benchmarks[1].path": "gsm8k/test.jsonl",
    "curate.decontam.benchmarks[2].path": "humaneval/HumanEval.jsonl",
}


def test_r1_recipe_is_table_5_by_domain_and_scales():
    config = load_config(R1)
    assert bucket_targets(config.mix) == TABLE5 and sum(TABLE5.values()) == 804_745
    small = load_config(R1, settings=["mix.scale=0.001"])
    assert small.mix.targets() == {"reasoning": 627, "knowledge": 178}
    assert {s.domain for s in config.sources} == {"math", "code", "stem", "logic", "general"}
    assert {s.generator for s in config.sources if s.domain == "logic"} == {"countdown", "knights_knaves"}
    # each source says how it is verified and asked (issue #13), the code ones through their presets
    methods = {s.name: (s.preset, s.verify_method, s.template) for s in config.sources if s.path}
    assert methods == {"gsm8k": ("gsm8k", "gold", None), "math": ("math", "gold", None),
                       "humaneval": ("humaneval", "tests", "code"), "mbpp": ("mbpp", "tests", "code"),
                       "mmlu_stem": ("mcq", "gold", "choice"), "general": ("alpaca", "judge", None)}
    assert not [s for s in config.sources if s.fields != type(s.fields)()]  # no hand-written field mappings
    assert config.curate.verify.judge.enabled  # the general answers are judged by the rubric


def test_r1_recipe_dry_run_on_the_real_files(tmp_path, capsys):
    args = []
    for key, relative in SUBSTITUTES.items():
        args += ["--set", f"{key}={data_file(relative)}"]
    for i in range(8):
        args += ["--set", f"sources[{i}].limit=2"] if i not in (5, 6) else ["--set", f"sources[{i}].count=2"]
    out = tmp_path / "out"
    assert cli.main(["run", "--config", R1, "--output", str(out), "--dry-run"] + FAKE_TEACHER + args) == 0, \
        capsys.readouterr().err
    printed = capsys.readouterr().out
    for stage in ("sample", "curate", "mix"):
        assert re.search(rf"^\s+{stage}\s+\d+ transforms", printed, re.M), printed
