"""`reasoning-corpus explain`: one JSON object per input record, in order, with the numbers."""
import json

from pipelines.cli import main

TRACES = [
    {"prompt": "What is 2 + 3?", "completion": "<think>\n2 + 3 = 5.\n</think>\n\nThe answer is \\boxed{5}.",
     "finish_reason": "stop"},
    {"prompt": "What is 2 + 3?", "completion": "<think>\n2 + 3 = ", "finish_reason": "length"},
    {"prompt": "How many apples are left?",
     "completion": "<think>\nWe start with 12 apples and give away 5, so 7 apples are left over after that. "
                   "Let me double check the subtraction once more to be sure it is right. "
                   "首先我们计算一下剩下的苹果数量，然后检查答案是否正确，这样可以确保结果没有问题。"
                   "Twelve minus five is seven.\n</think>\n\nThe answer is \\boxed{7}.",
     "finish_reason": "stop", "language": "en"},
]


def test_explain_prints_each_filter_decision_in_input_order(tmp_path, capsys):
    path = tmp_path / "rollouts.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in TRACES) + "\n")
    assert main(["explain", "--input", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [obj["line"] for obj in lines] == [1, 2, 3]
    assert lines[1]["decision"] == "drop" and lines[1]["reason"] == "truncated"
    lang = [f for f in lines[2]["filters"] if f["reason"] == "language_mixing"]
    assert lang and lang[0]["decision"] == "drop"
    assert all("filters" in obj and obj["filters"] for obj in lines)


def test_explain_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["explain", "--input", str(tmp_path / "missing.jsonl")]) == 2
    assert "input not found" in capsys.readouterr().err
