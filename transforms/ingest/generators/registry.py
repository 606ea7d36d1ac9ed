"""The generators by name, their levels, and drawing ``count`` distinct problems.

Problem ``i`` is drawn from ``random.Random(derive_seed(seed, name, i))``; when its
prompt repeats an earlier one, the same rng draws again, so a problem depends only on
the seed, the name, its index and the earlier problems: asking for more problems
never changes earlier ones."""
from __future__ import annotations

import random
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from transforms.core import derive_seed
from transforms.ingest.generators.countdown_game import countdown
from transforms.ingest.generators.equations import linear_equation
from transforms.ingest.generators.expressions import arithmetic
from transforms.ingest.generators.knights_knaves import knights_knaves
from transforms.ingest.generators.proportions import unit_rate
from transforms.ingest.generators.sequences import sequence
from transforms.text.countdown import RULES as COUNTDOWN_RULES

#: Difficulty levels every generator understands.
LEVELS = (1, 2, 3)
#: Extra levels of some generators (arithmetic 0: single-digit sums and differences;
#: sequence 0: counting on by 1 or 2).
EXTRA_LEVELS = {"arithmetic": (0,), "sequence": (0,)}

#: Draws per problem index before giving up on finding a prompt not seen before.
MAX_ATTEMPTS = 100

GENERATORS: Dict[str, Callable[..., dict]] = {
    "arithmetic": arithmetic,
    "linear_equation": linear_equation,
    "countdown": countdown,
    "unit_rate": unit_rate,
    "knights_knaves": knights_knaves,
    "sequence": sequence,
}
#: The rule variants of the generators that have some (the first is the default):
#: countdown's ``exactly_once`` (TinyZero's) and ``at_most_once``.
RULES: Dict[str, Tuple[str, ...]] = {"countdown": COUNTDOWN_RULES}


def levels_of(name: str) -> Tuple[int, ...]:
    """The difficulty levels generator ``name`` understands."""
    return tuple(sorted(EXTRA_LEVELS.get(name, ()) + LEVELS))


def check_generator(name: str, difficulties: Sequence[int], rule: Optional[str] = None) -> None:
    """ValueError naming the field (``generator``, ``difficulty``, ``rule``) for an unknown
    generator, a level it doesn't understand or a rule it doesn't have."""
    if name not in GENERATORS:
        raise ValueError(f"generator: unknown generator {name!r}; valid names: {', '.join(sorted(GENERATORS))}")
    levels = levels_of(name)
    if not difficulties or any(type(d) is not int or d not in levels for d in difficulties):
        raise ValueError(f"difficulty: {name} levels are {', '.join(map(str, levels))}, got {list(difficulties)}")
    if rule is not None and rule not in RULES.get(name, ()):
        known = f"{name} rules are {', '.join(RULES[name])}" if name in RULES else f"{name} has no rules"
        raise ValueError(f"rule: {known}, got {rule!r}")


def generate_problems(name: str, count: int, seed: int, difficulties: Sequence[int],
                      rule: Optional[str] = None) -> List[dict]:
    """``count`` problems of generator ``name``; problem ``i`` has level ``difficulties[i % len]``;
    ``rule``: the generator's rule variant (None: its default).

    Prompts are distinct: a prompt seen earlier is redrawn from the same rng (deterministic).
    Raises ValueError for an unknown name, a bad count or level, or when no new prompt is
    found in ``MAX_ATTEMPTS`` draws (the requested count exceeds what the levels can make)."""
    check_generator(name, difficulties, rule)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    levels = list(difficulties)
    generator = GENERATORS[name]
    seen = set()
    problems = []
    for index in range(count):
        rng = random.Random(derive_seed(seed, name, index))
        difficulty = levels[index % len(levels)]
        for _ in range(MAX_ATTEMPTS):
            problem = generator(index, rng, difficulty, rule) if rule is not None else generator(index, rng, difficulty)
            if problem["prompt"] not in seen:
                break
        else:
            raise ValueError(
                f"{name}: no new prompt for problem {index} after {MAX_ATTEMPTS} draws; "
                f"count {count} is too large for difficulties {levels}"
            )
        seen.add(problem["prompt"])
        problems.append(problem)
    return problems
