"""Procedural generators of math problems with exact gold answers (no external data).

Six generators, named as the config refers to them (``SourceConfig.generator``), one
module per family:

- ``arithmetic`` (``expressions``): 0 = ``a + b`` / ``a - b`` with single digits
  ("What is 3 + 5?", for tiny models and demos); 1 = ``a + b`` / ``a - b`` with 1-2
  digit numbers ("What is 23 + 15?"); 2 = a multiplication or a three-term
  sum/difference; 3 = mixed expressions with parentheses (and exact divisions) over
  larger numbers. Answers are integers.
- ``linear_equation`` (``equations``): "Solve for x: 3x + 5 = 20." 1 = ``ax ± b = c``
  with an integer root; 2 = x on both sides; 3 = parentheses or fractions on both
  sides. Answers at levels 2-3 may be fractions.
- ``countdown`` (``countdown_game``, as in TinyZero): 3 numbers at level 1, 4 at 2,
  5-6 at 3, and a target built from a random expression over all of them (positive
  integer intermediate results), so it is always reachable. TinyZero's rule (every
  number used exactly once) by default; ``rule: at_most_once`` lets answers leave
  numbers out. Checked by :func:`transforms.text.countdown.check_countdown`.
- ``knights_knaves`` (``knights_knaves``): who is a knight and who a knave, from one
  statement each; 2 people at level 1, 3 at 2, 4-5 at 3; the solution is unique (brute
  force over every assignment). Checked by :func:`transforms.text.knights.check_knights`.
- ``sequence`` (``sequences``): the next term of a number sequence; 0 = counting on by 1
  or 2, 1 = a constant step up or down, 2 = a constant factor or two alternating steps,
  3 = growing steps or each term the sum of the two before. Answers are integers.
- ``unit_rate`` (``proportions``): proportion word problems (speeds, prices, recipes,
  machines, workers) with integer answers; 1 = scale a rate, 2 = reverse or inverse
  proportion with larger numbers, 3 = two-factor (joint) proportion.

Gold answer format (``common``): integers as ``"12"`` / ``"-4"``; fractions as reduced
``"a/b"`` with the sign on the numerator (``"-7/3"``), never LaTeX. For countdown the
gold answer is the target and ``metadata["verifier"] == "countdown"``.

Every problem is a dict ``{"id", "prompt", "answer", "difficulty", "metadata"}``
(``metadata`` is JSON-serialisable). ``registry`` names the generators, checks names
and levels (``check_generator``) and draws problems (``generate_problems``): problem
``i`` is drawn from ``random.Random(derive_seed(seed, name, i))``; when its prompt
repeats an earlier one, the same rng draws again, so a problem depends only on the
seed, the name, its index and the earlier problems: asking for more problems never
changes earlier ones.
"""
from transforms.ingest.generators.common import format_number
from transforms.ingest.generators.countdown_game import countdown
from transforms.ingest.generators.equations import linear_equation
from transforms.ingest.generators.expressions import arithmetic
from transforms.ingest.generators.knights_knaves import knights_knaves
from transforms.ingest.generators.proportions import unit_rate
from transforms.ingest.generators.registry import (
    EXTRA_LEVELS,
    GENERATORS,
    LEVELS,
    MAX_ATTEMPTS,
    RULES,
    check_generator,
    generate_problems,
    levels_of,
)
from transforms.ingest.generators.sequences import sequence
from transforms.text.countdown import MAX_EXPRESSION_CHARS, check_countdown

__all__ = [
    "EXTRA_LEVELS", "GENERATORS", "LEVELS", "MAX_ATTEMPTS", "MAX_EXPRESSION_CHARS", "RULES", "arithmetic",
    "check_countdown", "check_generator", "countdown", "format_number", "generate_problems",
    "knights_knaves", "levels_of", "linear_equation", "sequence", "unit_rate",
]
