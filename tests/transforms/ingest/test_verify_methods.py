"""What verifies a source's problems is its ``verify:`` setting (or its preset's
default), not whether a record has an answer: which fields each method needs, what
ingest stamps on the problem, and the route curate then takes."""
import json

import pytest

from pipelines.config import ConfigError, load_config
from tests.code_support import DATA
from tests.factories import verified
from transforms.core.verification import METHODS
from transforms.ingest.config import FieldMapping, SourceConfig
from transforms.ingest.presets import BadRecord, to_problem
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import ROUTES, verify_rollout_fields
from transforms.verify.majority import finish_problem


def _problem(record, **kw):
    kw.setdefault("name", "src")
    return to_problem(record, SourceConfig(path="in.jsonl", **kw), "in.jsonl", 1, 1, "h")


def test_every_method_but_gold_has_a_route():
    assert set(METHODS) - {"gold"} == set(ROUTES)


def test_defaults_by_preset_and_an_unknown_method_is_a_config_error():
    assert SourceConfig(name="a", path="p", preset="math").verify_method == "gold"
    assert SourceConfig(name="a", path="p", preset="mbpp").verify_method == "tests"
    assert SourceConfig(name="a", path="p", preset="math", verify="majority").verify_method == "majority"
    assert SourceConfig(name="a", path="p", domain="code").verify_method == "tests"


def test_a_code_record_with_stdin_tests_and_no_answer_is_a_problem():
    # the example: a prompt and stdin/stdout tests, no answer field
    record = {"prompt": "Read n and print n + 1.", "tests": {"inputs": ["1\n"], "outputs": ["2\n"]}}
    problem = _problem(record, domain="code", fields=FieldMapping(tests="tests"))
    assert problem.reference_answer is None and json.loads(problem.tests) == record["tests"]
    assert json.loads(problem.metadata) == {"verify": "tests"}
    with pytest.raises(ValueError, match="verify: must be one of gold, judge, majority, none, tests"):
        SourceConfig(name="a", path="p", verify="vote")


def test_judge_needs_the_judge_on_at_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n  - {name: m, path: x.jsonl, verify: judge}\n")
    with pytest.raises(ConfigError, match="verify: judge.*needs curate.verify.judge.enabled"):
        load_config(str(path))


def test_gold_still_needs_the_answer_but_majority_and_none_do_not():
    record = {"problem": "What is 2 + 2?"}
    with pytest.raises(BadRecord) as info:
        _problem(record, preset="math")
    assert info.value.reason == "missing_field"
    for method in ("majority", "none"):
        problem = _problem(record, preset="math", verify=method)
        assert problem.reference_answer is None and json.loads(problem.metadata)["verify"] == method


def test_majority_withholds_the_answer_and_the_vote_labels_the_samples():
    with open(f"{DATA}/math500/test.jsonl", encoding="utf-8") as fh:
        row = json.loads(fh.readline())
    problem = _problem(row, preset="math", verify="majority")
    assert problem.reference_answer is None
    assert json.loads(problem.metadata)["withheld_answer"] == row["answer"]
    answers = ["\\boxed{7}", "\\boxed{7}", "\\boxed{8}"]
    records = []
    for i, text in enumerate(answers):
        r = verified(i, **{k: v for k, v in problem._asdict().items() if k in verified()._fields})
        r = r._replace(answer=text, completion=text, rollout_id=f"r{i}")
        records.append(r._replace(**verify_rollout_fields(r, verifier=None)))
    assert {r.verdict_reason for r in records} == {"no_reference_answer"}
    voted, _ = finish_problem(records, VerifyConfig())  # majority_vote off: the source's method decides
    assert [r.verdict for r in voted] == ["correct", "correct", "incorrect"]
    assert {r.verifier for r in voted} == {"majority-vote"}


def test_none_is_unverifiable_and_judge_waits_for_the_judge():
    base = verified()
    none = base._replace(metadata=json.dumps({"verify": "none"}), answer="anything", reference_answer="5")
    assert verify_rollout_fields(none, verifier=None)["verdict_reason"] == "not_verified"
    judge = base._replace(metadata=json.dumps({"verify": "judge"}), answer="Paris")
    fields = verify_rollout_fields(judge, verifier=None)
    assert fields["verdict"] == "unverifiable" and fields["verdict_reason"].startswith("needs_judge")


def test_an_imported_sft_source_honours_judge_and_none_and_refuses_the_rest():
    row = {"instruction": "Name a colour.", "input": "", "output": "Blue."}
    kw = {"preset": "alpaca", "kind": "knowledge", "domain": "general"}
    assert "verify" not in json.loads(_problem(row, **kw).metadata)
    for method in ("judge", "none"):
        meta = json.loads(_problem(row, verify=method, **kw).metadata)
        assert meta["verify"] == method and meta["imported_response"] == "Blue."
    for method in ("tests", "majority"):
        with pytest.raises(ValueError, match="verify: an imported answer"):
            SourceConfig(name="a", path="p", verify=method, **kw)
