"""The answer checker the mix launcher injects into journeys: the curate verifier's rules
on any text, picklable, its math-verify child started on the worker and closed there."""
import pickle

from tests.factories import make_rollout
from transforms.verify.checker import AnswerChecker
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.mathcheck import MathVerifierProcess


def test_it_verifies_a_text_as_the_curate_rules_verify_a_rollout():
    record = make_rollout()  # "What is 23 + 15?", reference 38
    checker = AnswerChecker(VerifyConfig())
    checker.setup()
    try:
        with MathVerifierProcess() as verifier:
            for text in ("The answer is \\boxed{38}.", "so 23 + 15 = 39", "no idea"):
                expected = verify_rollout_fields(record._replace(answer=text, completion=text), verifier)
                assert checker(record, text) == expected
        assert checker(record, "The answer is \\boxed{38}.")["verdict"] == "correct"
        assert checker(record, "\\boxed{39}")["verdict"] == "incorrect"
    finally:
        checker.teardown()


def test_it_travels_without_its_verifier_and_sets_itself_up():
    checker = AnswerChecker(VerifyConfig(timeout_s=3.0))
    checker.setup()
    try:
        copy = pickle.loads(pickle.dumps(checker))  # a started child never travels
        assert copy.config == checker.config and copy._verifier is None
        assert copy(make_rollout(), "\\boxed{38}")["verdict"] == "correct"  # called without setup
        copy.teardown()
    finally:
        checker.teardown()
    checker.teardown()  # twice: nothing to close
