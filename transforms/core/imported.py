"""The answer an imported SFT row carries, shared by ingest (which puts it in a
Problem's metadata: :mod:`transforms.ingest.sft`) and sample (which makes it the
rollout: :mod:`transforms.sample.imports`)."""
from __future__ import annotations

import json
from typing import Optional

#: The metadata key holding an imported answer (never truncated).
IMPORTED_RESPONSE = "imported_response"
#: The metadata key naming the format it was imported from (alpaca, sharegpt, messages).
IMPORTED_FROM = "imported_from"


def imported_response(metadata: Optional[str]) -> Optional[str]:
    """The imported answer a Problem's (or Rollout's) metadata carries, or None."""
    if not metadata or IMPORTED_RESPONSE not in metadata:
        return None
    try:
        data = json.loads(metadata)
    except ValueError:
        return None
    value = data.get(IMPORTED_RESPONSE) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
