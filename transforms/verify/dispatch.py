"""Which route verifies a rollout, and the reference as a bare answer.

Routing, per rollout (:func:`verify_rollout_fields`):

* ``metadata`` ``{"verifier": "countdown", ...}`` → :mod:`transforms.verify.routes.countdown`;
* ``metadata`` ``{"verify": METHOD}`` (the source's ``verify:``, stamped by ingest for
  every method but ``gold``: :mod:`transforms.core.verification`) → that method's route
  in :data:`ROUTES`: ``tests`` the sandbox, ``majority`` the vote (the answer is
  extracted here, the vote is taken per problem: :mod:`transforms.verify.majority`),
  ``judge`` the judge's model step, ``none`` ``unverifiable`` (``not_verified``);
* ``metadata`` ``{"verifier": "knights_knaves", ...}`` → :mod:`transforms.verify.routes.logic`;
* ``domain == "code"`` or ``tests`` → the last code block of the response, run
  against the tests in the sandbox (:mod:`transforms.verify.routes.code`);
* no reference answer → ``unverifiable`` (a majority vote over the problem's samples
  may relabel it later: :mod:`transforms.verify.majority`);
* ``choices`` → multiple-choice letter (:mod:`transforms.verify.routes.choice`);
* ``domain == "knowledge"`` → :mod:`transforms.verify.routes.knowledge`;
* everything else → maths (:mod:`transforms.verify.routes.math`).
"""
from __future__ import annotations

import ast
import json
import types
from typing import Callable, Mapping, Optional

from transforms.core.verification import METADATA_KEY
from transforms.text.extract import boxed_contents, clean_answer, extract_answer, math_span_list
from transforms.verify.config import VerifyConfig
from transforms.verify.routes.choice import verify_choice
from transforms.verify.routes.code import verify_code
from transforms.verify.routes.countdown import verify_countdown
from transforms.verify.routes.knowledge import verify_knowledge
from transforms.verify.routes.logic import verify_knights
from transforms.verify.routes.math import math_rules, verify_math
from transforms.verify.sandbox.runner import Sandbox
from transforms.verify.verdicts import JUDGE_METHOD_REASON, verdict_fields


def normalize_gold(reference_answer: str) -> str:
    """The gold answer as a bare answer: after "####", inside the last ``\\boxed{}``,
    without ``$`` delimiters or ``\\text{}`` wrappers; a list of strings written as
    a literal ("['$2$', '$3$']", OlympiadBench) or several ``$…$`` spans ("$5$ or
    $9$") become the items joined by ", "."""
    text = _unlist(reference_answer.strip())
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    boxed = boxed_contents(text)
    if boxed:
        text = boxed[-1]
    elif text.startswith("$") and not text.startswith("$$"):
        text = math_span_list(text) or text  # "$5$ or $9$", "$145$solution:" (sic)
    return clean_answer(text, keep_expression=True)


def _unlist(text: str) -> str:
    """The items of a literal list of strings, joined by ", "; other text unchanged.

    Only dataset gold answers come here; ``ast.literal_eval`` evaluates literals only."""
    if not (text.startswith("[") and text.endswith("]") and ("'" in text or '"' in text)):
        return text
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if isinstance(items, list) and items and all(isinstance(i, str) for i in items):
        return ", ".join(clean_answer(i, keep_expression=True) for i in items)
    return text


def parse_metadata(metadata: Optional[str]) -> dict:
    """The problem's metadata JSON as a dict ({} when absent); ValueError if not an object."""
    if not metadata:
        return {}
    value = json.loads(metadata)
    if not isinstance(value, dict):
        raise ValueError(f"metadata: expected a JSON object, got {type(value).__name__}")
    return value


def verify_method_of(rollout) -> Optional[str]:
    """The verification method stamped on a rollout's problem (None: ``gold``, or a
    problem ingested before methods existed). Never raises on bad metadata."""
    try:
        method = parse_metadata(rollout.metadata).get(METADATA_KEY)
    except ValueError:
        return None
    return method if isinstance(method, str) else None


def is_code(rollout) -> bool:
    """A code rollout: verified by its tests, domain ``code``, or tests to run."""
    method = verify_method_of(rollout)
    if method is not None and method != "tests":
        return False
    return method == "tests" or rollout.domain == "code" or bool(rollout.tests)


def _route_tests(rollout, text, verifier, config, sandbox) -> dict:
    return verify_code(rollout, text, sandbox)


def _route_majority(rollout, text, verifier, config, sandbox) -> dict:
    extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
    return verdict_fields(extracted, "unverifiable", "none", "", "no_reference_answer")


def _route_judge(rollout, text, verifier, config, sandbox) -> dict:
    extracted = extract_answer(text, last_number_fallback=False)
    return verdict_fields(extracted, "unverifiable", "none", "", JUDGE_METHOD_REASON)


def _route_none(rollout, text, verifier, config, sandbox) -> dict:
    return verdict_fields(None, "unverifiable", "none", "", "not_verified")


#: The route of each stamped verification method (``gold`` and unstamped problems take
#: the rules below): ``(rollout, text, verifier, config, sandbox) -> verdict fields``.
ROUTES: Mapping[str, Callable[..., dict]] = types.MappingProxyType({
    "tests": _route_tests, "majority": _route_majority, "judge": _route_judge, "none": _route_none,
})


def verify_rollout_fields(rollout, verifier, config: VerifyConfig = VerifyConfig(), *,
                          sandbox: Optional[Sandbox] = None, defer: bool = False):
    """The verdict fields of a rollout (all VERDICT_FIELDS but ``pass_rate``), by the rules.

    ``verifier`` is a ``MathVerifierProcess`` (or anything with ``verify(gold, pred,
    timeout_s)`` and ``version``); ``sandbox`` runs code (None: code rollouts are
    ``infra_unavailable``). The text verified is the rollout's ``answer``, or its
    ``completion`` when the answer is empty. Undecided answers come back
    ``unverifiable`` with a ``needs_judge`` reason (the judge: the stage's model step,
    :mod:`transforms.verify.judge_step`, or :func:`transforms.verify.batch.verify_batch`
    outside Beam). Raises on broken records (bad
    metadata JSON); the stage dead-letters those. ``defer``: a maths answer the rules
    leave to math-verify comes back as a :class:`~transforms.verify.routes.math.Pending`
    comparison instead (a batch sends them to the child together:
    :func:`transforms.verify.batch.verify_rules_batch`)."""
    text = rollout.answer or rollout.completion or ""
    meta = parse_metadata(rollout.metadata)
    if meta.get("verifier") == "countdown":
        return verify_countdown(text, meta, config.last_number_fallback)
    method = meta.get(METADATA_KEY)
    if isinstance(method, str) and method in ROUTES:
        return ROUTES[method](rollout, text, verifier, config, sandbox)
    if meta.get("verifier") == "knights_knaves":
        return verify_knights(text, meta)
    if is_code(rollout):
        return verify_code(rollout, text, sandbox)
    gold = rollout.reference_answer
    if gold is None or not str(gold).strip():
        extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
        return verdict_fields(extracted, "unverifiable", "none", "", "no_reference_answer")
    if rollout.choices:
        return verify_choice(text, gold, rollout.choices, config.last_number_fallback)
    if rollout.domain == "knowledge":
        return verify_knowledge(text, gold, config)
    if defer:
        return math_rules(text, normalize_gold(gold), verifier.version, config)
    return verify_math(text, normalize_gold(gold), verifier, config)
