"""Verify: Rollouts → VerifiedRollouts, each with a verdict and its problem's pass rate.

Every rollout comes out in ``kept`` with a verdict; the filters decide what to drop.

* ``correct`` / ``incorrect``: the extracted answer was compared with the gold answer.
* ``no_answer``: no answer could be extracted from the text.
* ``timeout``: the comparison ran past ``timeout_s`` (or the memory limit); never
  counted as incorrect.
* ``unverifiable``: the problem has no gold answer (or needs code tests).
* ``infra_unavailable``: the math-verify child process could not be started.

Routing: problems whose ``metadata`` says ``"verifier": "countdown"`` are checked by
``transforms.generators.check_countdown``; multiple-choice problems (``choices``)
by exact letter match; everything else by a cheap exact path (normalized strings,
plain numbers compared exactly) and then math-verify on LaTeX.

Safety: model text never reaches sympy's ``sympify``/``parse_expr`` (they ``eval``).
math-verify is only used with ``LatexExtractionConfig`` (an ANTLR LaTeX grammar);
its ``ExprExtractionConfig`` path calls ``parse_expr`` and is not used. math-verify
runs in a child process started with the "spawn" context (never a fork of a
threaded Beam worker) with its signal-based timeouts off; the parent bounds each
call by wall clock and kills the child past the bound (see MathVerifierProcess).
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import json
import logging
import math
import multiprocessing
import re
import resource
from fractions import Fraction
from typing import Iterable, Iterator, Optional, Tuple

import apache_beam as beam

from schemas.records import VerifiedRollout, project
from transforms.common import (
    DEAD,
    REJECTED,
    StageOutputs,
    error_text,
    make_dead_letter,
)
from transforms.extract import (
    boxed_contents,
    clean_answer,
    extract_answer,
    last_arithmetic_expression,
)

VERDICTS = ("correct", "incorrect", "no_answer", "timeout", "unverifiable", "infra_unavailable")
EXACT_VERSION = "exact==1"
COUNTDOWN_VERSION = "countdown==1"


@dataclasses.dataclass(frozen=True)
class VerifyConfig:
    """How rollouts are verified (``curate.verify`` in the run config)."""

    timeout_s: float = 5.0  # wall-clock bound per verification, enforced by killing a child process
    last_number_fallback: bool = True  # use the last number when no explicit answer is stated
    start_timeout_s: float = 60.0  # bound on starting the math-verify child (else infra_unavailable)
    memory_limit_mb: int = 2048  # address-space limit of the math-verify child (0: none)

    def __post_init__(self):
        if self.timeout_s <= 0:
            raise ValueError("timeout_s: must be > 0")
        if self.start_timeout_s <= 0:
            raise ValueError("start_timeout_s: must be > 0")
        if self.memory_limit_mb < 0:
            raise ValueError("memory_limit_mb: must be >= 0")


# -- the cheap exact path ------------------------------------------------------

_PLAIN_NUMBER = re.compile(
    r"(?P<sign>[-+]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?(?P<pct>\\?%)?"
)
_SIMPLE_FRACTION = re.compile(
    r"(?P<sign>-?)(?:\\[dt]?frac\{(?P<num>\d+)\}\{(?P<den>\d+)\}|(?P<num2>\d+)/(?P<den2>\d+))"
)
_SPACING = re.compile(r"\\left|\\right|\\[,;:! ]|\s+")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?$")


def normalize_answer_text(answer: str) -> str:
    """A comparison key: no spaces or sizing macros, ``\\dfrac`` → ``\\frac``, no degree sign."""
    s = _SPACING.sub("", answer)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return _DEGREES.sub("", s).rstrip(".")


def parse_plain_number(text: str) -> Optional[Tuple[Fraction, bool]]:
    """(value, is_percent) of a plain number — "1,234", "-3.50", "50%", "3/4",
    "\\frac{3}{4}" — or None. Exact (Fraction), never through sympy."""
    s = normalize_answer_text(text)
    match = _PLAIN_NUMBER.fullmatch(s)
    if match and (match.group("int") or match.group("frac")):
        whole = (match.group("int") or "0").replace(",", "")
        value = Fraction(f"{whole}.{match.group('frac') or '0'}")
        return (-value if match.group("sign") == "-" else value), bool(match.group("pct"))
    match = _SIMPLE_FRACTION.fullmatch(s)
    if match:
        num = int(match.group("num") or match.group("num2"))
        den = int(match.group("den") or match.group("den2"))
        if den == 0:
            return None
        value = Fraction(num, den)
        return (-value if match.group("sign") else value), False
    return None


def exact_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """(verdict, reason) when the cheap path decides, else None (ask math-verify).

    Equal normalized strings are correct; two plain numbers are compared exactly
    (a percentage also matches its value / 100: "50%" = "50" = "0.5")."""
    if normalize_answer_text(gold) == normalize_answer_text(pred) and gold.strip():
        return "correct", "exact_string_match"
    g, p = parse_plain_number(gold), parse_plain_number(pred)
    if g is None or p is None:
        return None
    (g_value, g_pct), (p_value, p_pct) = g, p
    candidates = {(g_value, p_value)}
    if g_pct:
        candidates.add((g_value / 100, p_value))
    if p_pct:
        candidates.add((g_value, p_value / 100))
    if any(a == b for a, b in candidates):
        return "correct", "numeric_equal"
    return "incorrect", "numeric_mismatch"


def normalize_gold(reference_answer: str) -> str:
    """The gold answer as a bare answer: after "####", inside the last ``\\boxed{}``,
    without ``$`` delimiters or ``\\text{}`` wrappers; a list of strings written as
    a literal ("['$2$', '$3$']", OlympiadBench) becomes its items joined by ", "."""
    text = _unlist(reference_answer.strip())
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    boxed = boxed_contents(text)
    if boxed:
        text = boxed[-1]
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


# -- math-verify, in the child process ----------------------------------------


def math_verify_compare(gold: str, pred: str) -> Tuple[str, str]:
    """Compare two bare LaTeX answers with math-verify (LaTeX extraction only).

    Runs with math-verify's signal timeouts off: call it only inside the child
    process (``MathVerifierProcess``), which the parent kills past its bound."""
    from math_verify import LatexExtractionConfig, parse, verify

    config = [LatexExtractionConfig()]
    gold_parsed = parse(f"${gold}$", extraction_config=config, parsing_timeout=None)
    if not gold_parsed:
        return "unverifiable", "gold_unparseable"
    pred_parsed = parse(f"${pred}$", extraction_config=config, parsing_timeout=None)
    if not pred_parsed:
        return "incorrect", "answer_unparseable"
    if verify(gold_parsed, pred_parsed, timeout_seconds=None):
        return "correct", "math_verify_equal"
    return "incorrect", "math_verify_not_equal"


#: CPU seconds a child may spend on one request beyond the parent's wall-clock
#: bound; the kernel ends it there even if the parent died and can't kill it.
CPU_GRACE_S = 5.0


def _limit_cpu(budget_s: float) -> None:
    """Let this process use at most ``budget_s`` more CPU seconds (then SIGXCPU ends it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(math.ceil(usage.ru_utime + usage.ru_stime + budget_s))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _serve_verifier(conn, memory_limit_mb: int) -> None:
    """Child main loop: answer ``(gold, pred, cpu_budget_s)`` requests until ``None``
    or EOF (the parent went away while the child was idle).

    Replies ``("ok", verdict, reason)`` or ``("error", message)``."""
    if memory_limit_mb:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    import math_verify  # noqa: F401  (import before saying ready)

    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        gold, pred, cpu_budget_s = request
        _limit_cpu(cpu_budget_s)
        try:
            conn.send(("ok",) + math_verify_compare(gold, pred))
        except MemoryError:
            conn.send(("ok", "timeout", f"memory_limit_exceeded: {memory_limit_mb} MB"))
        except Exception as exc:  # reported to the parent, which dead-letters the record
            conn.send(("error", error_text(exc)))


class VerifierUnavailable(RuntimeError):
    """The math-verify child process could not be started."""


class VerifierError(RuntimeError):
    """The math-verify child failed on one comparison (crashed or raised)."""


class MathVerifierProcess:
    """One math-verify child process, started lazily, bounded per call by wall clock.

    ``verify(gold, pred, timeout_s)`` returns ``(verdict, reason)``; past
    ``timeout_s`` the child is killed (a new one starts on the next call) and the
    verdict is ``"timeout"``. Start-up time is bounded separately by
    ``start_timeout_s`` and does not count against ``timeout_s``. Use as a context
    manager or call ``close()``. Nothing outlives the parent: the child is a daemon,
    exits when the parent's end of the pipe closes, and each request caps its CPU
    time at ``timeout_s + CPU_GRACE_S`` so a busy child ends itself (SIGXCPU) even if
    the parent died mid-request; its address space is capped at ``memory_limit_mb``.
    """

    def __init__(self, start_timeout_s: float = 60.0, memory_limit_mb: int = 2048):
        self.start_timeout_s = start_timeout_s
        self.memory_limit_mb = memory_limit_mb
        self._process = None
        self._conn = None
        self.starts = 0  # how many children were started (restarts included)
        self.version = f"math-verify=={importlib.metadata.version('math-verify')}"

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child if none is running; raise VerifierUnavailable on failure."""
        if self._process is not None and self._process.is_alive():
            return
        self._discard()
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve_verifier,
            args=(child_end, self.memory_limit_mb),
            daemon=True,
            name="math-verify",
        )
        try:
            process.start()
        except Exception as exc:
            parent_end.close()
            raise VerifierUnavailable(f"could not start math-verify: {error_text(exc)}") from exc
        finally:
            child_end.close()
        self._process, self._conn = process, parent_end
        self.starts += 1
        try:
            ready = parent_end.poll(self.start_timeout_s) and parent_end.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self._discard()
            raise VerifierUnavailable(
                f"math-verify child died or was not ready within {self.start_timeout_s:g}s "
                f"(exit code {code})"
            )

    def verify(self, gold: str, pred: str, timeout_s: float) -> Tuple[str, str]:
        """(verdict, reason) for ``pred`` against ``gold``, within ``timeout_s`` seconds."""
        self.start()
        try:
            self._conn.send((gold, pred, timeout_s + CPU_GRACE_S))
            answered = self._conn.poll(timeout_s)
            reply = self._conn.recv() if answered else None
        except (EOFError, OSError) as exc:
            code = self._discard()
            raise VerifierError(f"math-verify child died (exit code {code})") from exc
        if reply is None:
            self._discard()
            return "timeout", f"math_verify_timeout: over {timeout_s:g}s"
        if reply[0] == "error":
            raise VerifierError(reply[1])
        return reply[1], reply[2]

    def close(self) -> None:
        """Stop the child (politely, then by kill) and wait for it."""
        if self._process is not None and self._process.is_alive():
            try:
                self._conn.send(None)
            except (OSError, ValueError):
                pass
            self._process.join(1.0)
        self._discard()

    def _discard(self) -> Optional[int]:
        """Kill and reap the current child, if any, and forget it; its exit code."""
        code = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5.0)
            code = self._process.exitcode
            if code is not None:
                self._process.close()
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None
        return code

    def __enter__(self) -> "MathVerifierProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# -- one rollout ---------------------------------------------------------------


def _fields(extracted, verdict, verifier, version, reason) -> dict:
    return dict(
        extracted_answer=extracted,
        verdict=verdict,
        verifier=verifier,
        verifier_version=version,
        verdict_reason=reason,
    )


def parse_metadata(metadata: Optional[str]) -> dict:
    """The problem's metadata JSON as a dict ({} when absent); ValueError if not an object."""
    if not metadata:
        return {}
    value = json.loads(metadata)
    if not isinstance(value, dict):
        raise ValueError(f"metadata: expected a JSON object, got {type(value).__name__}")
    return value


def choice_letter(answer: str, choices: Iterable[str], allow_index: bool = False) -> Optional[str]:
    """The letter an answer names: "B", "(b)", the text of a choice, or (with
    ``allow_index``, for gold answers such as MMLU's) a 0-based index."""
    choices = list(choices)
    text = clean_answer(answer.strip())
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    letter = re.fullmatch(r"\(?([A-Za-z])\)?", text)
    if letter and letter.group(1).upper() in letters:
        return letter.group(1).upper()
    for name, choice in zip(letters, choices):
        if text.strip().lower() == choice.strip().lower():
            return name
    if allow_index and text.isdigit() and int(text) < len(choices):
        return letters[int(text)]
    return None


def _verify_countdown(text: str, meta: dict, fallback: bool) -> dict:
    from transforms.generators import check_countdown

    extracted = extract_answer(text, last_number_fallback=False, keep_expression=True)
    if extracted is None and fallback:
        extracted = last_arithmetic_expression(text)
    if extracted is None:
        return _fields(None, "no_answer", "countdown", COUNTDOWN_VERSION, "no_expression_found")
    ok, reason = check_countdown(extracted, list(meta["numbers"]), meta["target"])
    return _fields(extracted, "correct" if ok else "incorrect", "countdown", COUNTDOWN_VERSION, reason)


def _verify_choice(text: str, gold: str, choices, fallback: bool) -> dict:
    extracted = extract_answer(text, last_number_fallback=fallback)
    if extracted is None:
        return _fields(None, "no_answer", "exact", EXACT_VERSION, "no_answer_found")
    gold_letter = choice_letter(gold, choices, allow_index=True)
    if gold_letter is None:
        return _fields(extracted, "unverifiable", "exact", EXACT_VERSION, "gold_not_a_choice")
    pred_letter = choice_letter(extracted, choices)
    if pred_letter == gold_letter:
        return _fields(extracted, "correct", "exact", EXACT_VERSION, "choice_match")
    return _fields(extracted, "incorrect", "exact", EXACT_VERSION, "choice_mismatch")


def _verify_math(text: str, gold: str, verifier, config: VerifyConfig) -> dict:
    extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
    if extracted is None:
        return _fields(None, "no_answer", "math-verify", verifier.version, "no_answer_found")
    gold_answer = normalize_gold(gold)
    decided = exact_verdict(gold_answer, extracted)
    if decided is not None:
        return _fields(extracted, decided[0], "exact", EXACT_VERSION, decided[1])
    try:
        verdict, reason = verifier.verify(gold_answer, extracted, config.timeout_s)
    except VerifierUnavailable as exc:
        return _fields(extracted, "infra_unavailable", "math-verify", verifier.version, str(exc))
    return _fields(extracted, verdict, "math-verify", verifier.version, reason)


def verify_rollout_fields(rollout, verifier, config: VerifyConfig = VerifyConfig()) -> dict:
    """The verdict fields of a rollout (all VERDICT_FIELDS but ``pass_rate``).

    ``verifier`` is a ``MathVerifierProcess`` (or anything with ``verify(gold, pred,
    timeout_s)`` and ``version``). The text verified is the rollout's ``answer``, or
    its ``completion`` when the answer is empty. Raises on broken records
    (bad metadata JSON, a crashed verifier); the stage dead-letters those."""
    text = rollout.answer or rollout.completion or ""
    meta = parse_metadata(rollout.metadata)
    if meta.get("verifier") == "countdown":
        return _verify_countdown(text, meta, config.last_number_fallback)
    gold = rollout.reference_answer
    if gold is None or not str(gold).strip():
        extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
        reason = "code_tests_not_run" if rollout.tests else "no_reference_answer"
        return _fields(extracted, "unverifiable", "none", "", reason)
    if rollout.choices:
        return _verify_choice(text, gold, rollout.choices, config.last_number_fallback)
    return _verify_math(text, gold, verifier, config)


def assign_pass_rates(group: Tuple[str, Iterable]) -> Iterator:
    """Set ``pass_rate`` = correct / n on every VerifiedRollout of one problem."""
    _, rollouts = group
    rollouts = sorted(rollouts, key=lambda r: (r.sample_index, r.rollout_id))
    rate = sum(r.verdict == "correct" for r in rollouts) / len(rollouts)
    for rollout in rollouts:
        yield rollout._replace(pass_rate=rate)


# -- the Beam stage ------------------------------------------------------------


class _VerifyFn(beam.DoFn):
    """Rollout → VerifiedRollout (pass_rate 0 until grouped), or a DeadLetter."""

    def __init__(self, config: VerifyConfig):
        self._config = config
        self._verifier = None

    def setup(self):
        # The child starts on the first rollout that needs math-verify.
        self._verifier = MathVerifierProcess(self._config.start_timeout_s, self._config.memory_limit_mb)

    def process(self, rollout):
        try:
            fields = verify_rollout_fields(rollout, self._verifier, self._config)
            yield project(VerifiedRollout, rollout, pass_rate=0.0, **fields)
        except Exception as exc:  # one bad rollout must not fail the bundle
            yield beam.pvalue.TaggedOutput(
                DEAD, make_dead_letter("curate", "verify", error_text(exc), record=rollout)
            )

    def teardown(self):
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None


def _problem_key(verified) -> Tuple[str, object]:
    return verified.problem_id, verified


class VerifyAnswers(beam.PTransform):
    """PCollection[Rollout] → StageOutputs(kept=VerifiedRollouts, rejected=empty, dead).

    Every rollout is kept with a verdict; ``pass_rate`` is computed over the
    verified rollouts of the same ``problem_id`` (dead-lettered ones don't count)."""

    def __init__(self, config: VerifyConfig = VerifyConfig()):
        super().__init__()
        self._config = config

    def expand(self, rollouts):
        verified = rollouts | "Verify" >> beam.ParDo(_VerifyFn(self._config)).with_outputs(
            REJECTED, DEAD, main="kept"
        )
        kept = (
            verified.kept
            | "KeyByProblem" >> beam.Map(_problem_key).with_output_types(Tuple[str, VerifiedRollout])
            | "GroupByProblem" >> beam.GroupByKey()
            | "PassRate" >> beam.FlatMap(assign_pass_rates).with_output_types(VerifiedRollout)
        )
        return StageOutputs(kept=kept, rejected=verified[REJECTED], dead=verified[DEAD])
