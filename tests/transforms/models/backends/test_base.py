"""What every backend shares: where a model is loaded from, and stop strings."""
from __future__ import annotations

import os

import pytest

from transforms.models.backends.base import SMOLLM2_FILE, cut_at_stop, resolve_model
from transforms.models.config import ModelConfig


def test_resolve_smollm2_points_at_the_packaged_gguf():
    path, kwargs = resolve_model(ModelConfig())
    assert kwargs == {"gguf_file": SMOLLM2_FILE}
    assert os.path.isfile(os.path.join(path, SMOLLM2_FILE))


def test_resolve_local_directories_and_hub_ids(tmp_path):
    (tmp_path / "w.gguf").write_bytes(b"")
    assert resolve_model(ModelConfig(model=str(tmp_path))) == (str(tmp_path), {})
    assert resolve_model(ModelConfig(model=str(tmp_path), model_file="w.gguf")) == (
        str(tmp_path), {"gguf_file": "w.gguf"})
    with pytest.raises(FileNotFoundError, match="missing.gguf"):
        resolve_model(ModelConfig(model=str(tmp_path), model_file="missing.gguf"))
    assert resolve_model(ModelConfig(model="org/name", revision="v1")) == ("org/name", {"revision": "v1"})
    assert resolve_model(ModelConfig(model="org/name")) == ("org/name", {})


@pytest.mark.parametrize(
    "text, stop, expected",
    [
        ("a\n\nb", ("\n\n",), 1),
        ("x</answer>y<end>", ("<end>", "</answer>"), 1),  # the earliest wins
        ("no stop here", ("</s>",), None),
        ("anything", (), None),
    ],
)
def test_cut_at_stop(text, stop, expected):
    assert cut_at_stop(text, stop) == expected
