"""A batch of rollouts: the rules, then the judge for what they left undecided, and
a broken record as an error outcome."""
from tests.factories import make_rollout
from transforms.verify.batch import Verifiers, verify_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.judge import JudgeConfig


class _ScriptedJudgeBackend:
    """A sampler backend whose 'model' answers from a table keyed by the response."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = answers
        self.requests = []

    def load(self):
        pass

    def render(self, messages):
        return "\n".join(m["content"] for m in messages)

    def generate(self, requests):
        from transforms.models.backends.base import GenerationResult, Sample

        self.requests.extend(requests)
        out = []
        for request in requests:
            response = request.prompt.split("Response:\n", 1)[1].split("\n\n", 1)[0]
            out.append(GenerationResult([Sample(self.answers[response], "stop", 5)], 10, 0.0))
        return out


def test_judge_decides_what_the_rules_cannot():
    backend = _ScriptedJudgeBackend({
        "Washington": '{"rationale": "Same person, surname only.", "verdict": "correct"}',
        "George Bush": 'Thinking... {"verdict": "incorrect", "rationale": "A different president."}',
        "Abe Lincoln's successor, George": "I cannot decide.",
    })
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    verifiers = Verifiers(config, judge_backend=backend)
    rollouts = [make_rollout(domain="knowledge", reference_answer="George Washington", completion=c,
                             prompt="Who was the first US president?")
                for c in ("Washington", "George Bush", "Abe Lincoln's successor, George", "George Washington")]
    outcomes = verify_batch(rollouts, verifiers, config)
    got = [(o.fields["verdict"], o.fields["verifier"], o.fields["verdict_reason"]) for o in outcomes]
    assert got == [
        ("correct", "llm-judge", "judge: Same person, surname only."),
        ("incorrect", "llm-judge", "judge: A different president."),
        ("unverifiable", "llm-judge", "judge_unparseable"),
        ("correct", "knowledge-rules", "normalized_match"),  # decided by the rules: no judge call
    ]
    assert len(backend.requests) == 3  # one call per undecided rollout, batched by 2
    assert "George Washington" in backend.requests[0].prompt  # the reference reaches the judge


def test_judge_is_not_asked_outside_its_domains_or_when_off():
    backend = _ScriptedJudgeBackend({})
    rollout = make_rollout(domain="knowledge", reference_answer="George Washington", completion="Washington")
    for config in (VerifyConfig(), VerifyConfig(judge=JudgeConfig(enabled=True, domains=("math",)))):
        outcome = verify_batch([rollout], Verifiers(config, judge_backend=backend), config)[0]
        assert outcome.fields["verdict"] == "unverifiable"
    assert backend.requests == []


def test_broken_record_is_an_error_outcome_not_a_crash():
    config = VerifyConfig()
    outcomes = verify_batch([make_rollout(metadata="{not json", answer="\\boxed{38}"),
                             make_rollout(answer="\\boxed{38}")], Verifiers(config), config)
    assert outcomes[0].fields is None and "JSONDecodeError" in outcomes[0].error
    assert outcomes[1].fields["verdict"] == "correct"
