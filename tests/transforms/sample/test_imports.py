"""Imported SFT answers as rollouts: "Hello!" (and "你好！") kept as they came with no model
call, a non-trivial prompt given a chain of thought by the teacher (its own <think> part
dropped), one rollout whatever n is, reused on resume, and cot: none."""
import json

import pytest

from tests.factories import problem
from transforms.models.backends import BACKEND_CLASSES
from transforms.models.backends.base import GenerationResult, Sample
from transforms.sample.config import SampleConfig
from transforms.sample.handler import SampleModelHandler
from transforms.sample.imports import ImportConfig
from transforms.sample.journal import SampleTask


class _Teacher:
    """Writes "<think>planning</think>Thinking about: <request>" and logs every prompt."""

    asked: list = []

    def __init__(self, config):
        self.config = config

    def load(self):
        pass

    def render(self, messages):
        return json.dumps(messages)

    def generate(self, requests):
        out = []
        for r in requests:
            _Teacher.asked.append(r.prompt)
            request = json.loads(r.prompt)[-1]["content"].split("Request:\n", 1)[1].split("\n\nAnswer:", 1)[0]
            out.append(GenerationResult([Sample(f"<think>planning</think>Thinking about: {request}", "stop", 7)
                                         for _ in r.seeds], 20, 0.0))
        return out


@pytest.fixture
def teacher(monkeypatch):
    monkeypatch.setitem(BACKEND_CLASSES, "fake", _Teacher)
    _Teacher.asked = []


def _imported(prompt, answer, source_id):
    meta = json.dumps({"imported_from": "alpaca", "imported_response": answer})
    return problem(source_id=source_id, kind="knowledge", domain="general", prompt=prompt, reference_answer=None,
                   metadata=meta)


def _run(problems, config):
    handler = SampleModelHandler(config, 1, "h")
    return list(handler.run_inference(problems, handler.load_model()))


def test_trivial_prompts_keep_the_answer_and_others_get_the_teachers_thinking(teacher):
    hello, nihao = _imported("Hello!", "Hi! How can I help?", "1"), _imported("你好！", "你好！", "2")
    task = _imported("Explain photosynthesis.", "Plants turn light into sugar.", "3")
    outcomes = _run([hello, nihao, task], SampleConfig(backend="fake", n=4))
    assert [len(o.rollouts) for o in outcomes] == [1, 1, 1]  # one rollout whatever n is
    for outcome, answer in zip(outcomes[:2], ["Hi! How can I help?", "你好！"]):
        (r,) = outcome.rollouts
        assert (r.completion, r.reasoning, r.answer, r.backend, r.completion_tokens) == (answer, "", answer,
                                                                                          "import", 0)
    (r,) = outcomes[2].rollouts
    assert r.reasoning == "Thinking about: Explain photosynthesis."
    assert r.completion == ("<think>\nThinking about: Explain photosynthesis.\n</think>\n\n"
                            "Plants turn light into sugar.")
    assert r.answer == "Plants turn light into sugar." and r.backend == "fake"
    assert len(_Teacher.asked) == 1 and "Plants turn light into sugar." in _Teacher.asked[0]
    # the same run again: the same ids; a persisted rollout is reused, the teacher not asked
    again = _run([SampleTask(task, [r])], SampleConfig(backend="fake", n=4))
    assert again[0].rollouts == [r] and again[0].reused == 1 and len(_Teacher.asked) == 1
    assert _run([hello], SampleConfig(backend="fake"))[0].rollouts == outcomes[0].rollouts


def test_cot_none_keeps_every_answer_as_it_came(teacher):
    config = SampleConfig(backend="fake", imports=ImportConfig(cot="none"))
    (outcome,) = _run([_imported("Explain photosynthesis.", "Plants turn light into sugar.", "3")], config)
    assert outcome.rollouts[0].reasoning == "" and not _Teacher.asked


def test_import_settings_are_checked():
    with pytest.raises(ValueError, match="cot_template: must contain {answer}"):
        ImportConfig(cot_template="{prompt}")
    with pytest.raises(ValueError, match="cot: must be one of teacher, none"):
        ImportConfig(cot="always")
