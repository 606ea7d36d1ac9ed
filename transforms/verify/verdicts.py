"""The verdict fields every route returns, and the names routes share."""
from __future__ import annotations

#: Version of the exact rules (the cheap path of maths answers, multiple choice).
EXACT_VERSION = "exact==3"
#: Reason prefix of verdicts the rules could not decide (the judge may).
NEEDS_JUDGE = "needs_judge"
#: The reason of a rollout whose source is verified by the judge (``verify: judge``).
JUDGE_METHOD_REASON = f"{NEEDS_JUDGE}: verify: judge"


def verdict_fields(extracted, verdict, verifier, version, reason) -> dict:
    """The verdict fields of one rollout: all VERDICT_FIELDS but ``pass_rate``."""
    return dict(
        extracted_answer=extracted,
        verdict=verdict,
        verifier=verifier,
        verifier_version=version,
        verdict_reason=reason,
    )
