"""Shared by the CLI tests: a small config with the fake teacher, the real GSM8K file."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GSM8K = os.path.join(ROOT, "..", "shared", "data", "gsm8k", "test.jsonl")

#: A run of a few seconds: generated problems, the fake teacher.
FAKE = """\
seed: 5
sources:
  - {name: arithmetic, generator: arithmetic, count: 4, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 2, max_tokens: 32}
mix: {reasoning: 10, knowledge: 0}
"""


def write_config(tmp_path, text=FAKE, name="c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)
