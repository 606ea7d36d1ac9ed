"""Record types of reasoning-corpus, their Beam coders and derived Arrow schemas."""
from schemas.arrow import arrow_schema  # noqa: F401
from schemas.records import (  # noqa: F401
    SCHEMA_VERSION,
    DeadLetter,
    Message,
    Problem,
    Rejection,
    Rollout,
    SftExample,
    VerifiedRollout,
    from_dict,
    to_dict,
)
