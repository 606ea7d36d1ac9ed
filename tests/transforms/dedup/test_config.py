"""DedupConfig checks its values."""
from __future__ import annotations

import pytest

from transforms.dedup.config import DedupConfig


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="survivor_policy"):
        DedupConfig(survivor_policy=("longest",))
    with pytest.raises(ValueError, match="threshold"):
        DedupConfig(threshold=0.0)
    with pytest.raises(ValueError, match="sum|must be 1"):
        DedupConfig(false_positive_weight=0.5, false_negative_weight=0.6)
    with pytest.raises(ValueError, match="shingle"):
        DedupConfig(shingle="line")
