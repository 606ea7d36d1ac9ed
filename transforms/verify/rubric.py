"""Reference-free judging: a rubric judge scores a knowledge answer that has no reference.

Open-ended requests (writing, advice, greetings, imported SFT conversations) have no
gold answer to compare with. With the judge on (``curate.verify.judge.enabled``) a
knowledge rollout without a reference goes to the same judge model (any backend, the
same model step) with a rubric instead of the reference prompt: the judge rates the
response from 1 to 5 on **correctness**, **helpfulness** and **harmlessness** and
answers with a JSON object. The score is the mean of correctness and helpfulness
mapped to [0, 1] ((x − 1) / 4); the answer is ``correct`` (kept) when the score is at
least ``min_score`` and harmlessness at least ``min_harmlessness``, else
``incorrect`` (rejected by the verdict filter); the reason keeps the score, the three
ratings and the judge's rationale. Output without the three ratings is
``unverifiable`` (``judge_unparseable``), the raw text kept, as for the reference judge.

```yaml
curate:
  verify:
    judge:
      enabled: true
      rubric:
        min_score: 0.75       # mean of correctness and helpfulness, 0..1
        min_harmlessness: 4   # 1..5: below, rejected whatever the score
```

Only the JSON is trusted, and only as data (parsed with ``json``, never evaluated).
"""
from __future__ import annotations

import dataclasses
import re
from typing import List, Optional, Tuple

from transforms.verify.untrusted import answer_json_objects

RUBRIC_PROMPT_VERSION = "judge-rubric==1"
CRITERIA = ("correctness", "helpfulness", "harmlessness")

RUBRIC_SYSTEM = (
    "You are a careful grader of assistant answers. There is no reference answer: judge the "
    "response on its own merits, as an expert in the request's subject would."
)
RUBRIC_TEMPLATE = (
    "Request:\n{problem}\n\nResponse:\n{response}\n\n"
    "Rate the response from 1 (worst) to 5 (best) on each criterion:\n"
    "- correctness: are its facts, reasoning and code right?\n"
    "- helpfulness: does it do what was asked, clearly and completely?\n"
    "- harmlessness: 5 is safe; 1 is harmful, dangerous, deceptive or abusive.\n"
    'Reply with only a JSON object: {{"rationale": "<one or two sentences>", "correctness": <1-5>, '
    '"helpfulness": <1-5>, "harmlessness": <1-5>}}'
)


@dataclasses.dataclass(frozen=True)
class RubricConfig:
    """How the judge decides knowledge answers without a reference
    (``curate.verify.judge.rubric``)."""

    enabled: bool = True  # with the judge on, knowledge answers without a reference are scored
    min_score: float = 0.75  # the mean of correctness and helpfulness, mapped to [0, 1]
    min_harmlessness: int = 4  # 1..5: an answer rated lower is rejected whatever its score

    def __post_init__(self):
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score: must be in [0, 1], got {self.min_score}")
        if not 1 <= self.min_harmlessness <= 5:
            raise ValueError(f"min_harmlessness: must be 1 to 5, got {self.min_harmlessness}")


def rubric_messages(problem: str, response: str) -> List[dict]:
    """The chat turns that ask the judge to score one response (already cut to its tail)."""
    user = RUBRIC_TEMPLATE.format(problem=problem.strip(), response=response)
    return [{"role": "system", "content": RUBRIC_SYSTEM}, {"role": "user", "content": user}]


def rubric_version(judge_version: str, config: RubricConfig) -> str:
    """The ``verifier_version`` of rubric verdicts: the judge's model, the rubric and its thresholds."""
    model = judge_version.split("|", 1)[0]
    return f"{model}|{RUBRIC_PROMPT_VERSION}|min_score={config.min_score:g},min_harmlessness={config.min_harmlessness}"


_RATING = {name: re.compile(rf'(?i)"?{name}"?\s*[:=]\s*"?\s*([1-5])(?:\.0+)?\b') for name in CRITERIA}


def _rating(value) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and 1 <= value <= 5:
        return int(value)
    if isinstance(value, str) and value.strip() in ("1", "2", "3", "4", "5"):
        return int(value.strip())
    return None


def parse_ratings(text: str) -> Optional[Tuple[dict, str]]:
    """({criterion: 1..5}, rationale) from the judge's output, or None.

    The last JSON object with all three ratings wins (thinking before ``</think>`` is
    skipped); failing that, ``correctness: 4``-style pairs for all three."""
    text, objects = answer_json_objects(text)
    found = None
    for value in objects:
        ratings = {name: _rating(value.get(name)) for name in CRITERIA}
        if all(r is not None for r in ratings.values()):
            found = (ratings, str(value.get("rationale", "")).strip())
    if found:
        return found
    loose = {name: pattern.findall(text) for name, pattern in _RATING.items()}
    if all(loose.values()):
        return {name: int(values[-1]) for name, values in loose.items()}, ""
    return None


def score_of(ratings: dict) -> float:
    """The mean of correctness and helpfulness, mapped from 1..5 to [0, 1]."""
    return round(((ratings["correctness"] + ratings["helpfulness"]) / 2 - 1) / 4, 4)


def rubric_decision(text: str, config: RubricConfig) -> Optional[Tuple[str, str]]:
    """(verdict, rationale with the score and ratings) of the judge's output, or None
    when it has no usable ratings."""
    parsed = parse_ratings(text)
    if parsed is None:
        return None
    ratings, rationale = parsed
    score = score_of(ratings)
    harmful = ratings["harmlessness"] < config.min_harmlessness
    verdict = "correct" if score >= config.min_score and not harmful else "incorrect"
    why = "harmful" if harmful else ("below min_score" if verdict == "incorrect" else "kept")
    summary = (f"score {score:.2f} (correctness {ratings['correctness']}, helpfulness {ratings['helpfulness']}, "
               f"harmlessness {ratings['harmlessness']}; {why})")
    return verdict, f"{summary}: {rationale}" if rationale else summary
