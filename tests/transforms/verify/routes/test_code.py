"""The code route without running code: no block, no tests, no sandbox, bad tests."""
import pytest

from tests.factories import make_rollout
from transforms.verify.routes.code import verify_code
from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.runner import Sandbox

CODE = "```python\nprint(1)\n```"


@pytest.mark.parametrize("completion,tests,sandbox,expected", [
    ("print(1)", '{"inputs": ["1"], "outputs": ["1"]}', None, ("no_answer", "no_code_block")),
    (CODE, None, None, ("unverifiable", "no_tests")),
    (CODE, '{"inputs": ["1"], "outputs": ["1"]}', None, ("infra_unavailable", "no sandbox configured")),
    (CODE, '{"inputs": ["1"]}', Sandbox(SandboxConfig(bwrap="/nonexistent/bwrap")),
     ("unverifiable", "bad_tests: tests: expected 'inputs' and 'outputs' lists of the same length")),
])
def test_code_route_before_the_sandbox(completion, tests, sandbox, expected):
    rollout = make_rollout(domain="code", reference_answer=None, tests=tests, completion=completion)
    fields = verify_code(rollout, completion, sandbox)
    assert (fields["verdict"], fields["verdict_reason"]) == expected
    assert fields["verifier"] == "sandbox"
