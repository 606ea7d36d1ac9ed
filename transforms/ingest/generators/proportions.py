"""The ``unit_rate`` generator: proportion word problems with integer answers.

Speeds, prices, recipes, machines, workers: 1 = scale a rate, 2 = reverse or inverse
proportion with larger numbers, 3 = two-factor (joint) proportion."""
from __future__ import annotations

import math
import random
from typing import Dict, List, Tuple, Union

from transforms.ingest.generators.common import make_problem

# Templates of a rate "total per unit": {q1} units give {t1}; ask for the total of {q2}
# units ("scale") or for how many units give {t2} ("reverse").
_RATE_TEMPLATES: List[Dict[str, Union[str, List[str]]]] = [
    {
        "given": "A car travels {t1} km in {q1} hours.",
        "scale": "At the same speed, how many km does it travel in {q2} hours?",
        "reverse": "At the same speed, how many hours does it take to travel {t2} km?",
    },
    {
        "given": "{q1} {item} cost ${t1}.",
        "scale": "At the same price each, how many dollars do {q2} {item} cost?",
        "reverse": "At the same price each, how many {item} can you buy with ${t2}?",
        "items": ["notebooks", "pens", "tickets", "mugs", "books", "apples", "candles", "posters"],
    },
    {
        "given": "A recipe uses {t1} grams of {item} to make {q1} cookies.",
        "scale": "How many grams of {item} are needed for {q2} cookies?",
        "reverse": "How many cookies can be made with {t2} grams of {item}?",
        "items": ["flour", "sugar", "butter", "oats", "chocolate"],
    },
    {
        "given": "A printer prints {t1} pages in {q1} minutes.",
        "scale": "At the same rate, how many pages does it print in {q2} minutes?",
        "reverse": "At the same rate, how many minutes does it take to print {t2} pages?",
    },
    {
        "given": "A pump moves {t1} liters of water in {q1} minutes.",
        "scale": "At the same rate, how many liters does it move in {q2} minutes?",
        "reverse": "At the same rate, how many minutes does it take to move {t2} liters?",
    },
    {
        "given": "A worker packs {t1} boxes in {q1} hours.",
        "scale": "At the same pace, how many boxes does the worker pack in {q2} hours?",
        "reverse": "At the same pace, how many hours does it take to pack {t2} boxes?",
    },
]

# Inverse proportion: {a1} (workers, pipes, km/h) take {b1}; how long for {a2}?
_INVERSE_TEMPLATES = [
    "{a1} workers can paint a house in {b1} days. Working at the same rate, "
    "how many days would {a2} workers take?",
    "{a1} identical pipes fill a tank in {b1} hours. How many hours would {a2} such pipes take?",
    "A trip takes {b1} hours at {a1} km/h. How many hours does it take at {a2} km/h?",
    "{a1} machines finish an order in {b1} hours. How many hours would {a2} machines take?",
]

# Joint proportion: {a1} agents produce {t1} in {b1} time units; what do {a2} make in {b2}?
_JOINT_TEMPLATES = [
    "{a1} workers make {t1} toys in {b1} days. At the same rate, how many toys do "
    "{a2} workers make in {b2} days?",
    "{a1} machines fill {t1} bottles in {b1} hours. At the same rate, how many bottles do "
    "{a2} machines fill in {b2} hours?",
    "{a1} cows eat {t1} kg of hay in {b1} days. At the same rate, how many kg of hay do "
    "{a2} cows eat in {b2} days?",
    "{a1} printers print {t1} pages in {b1} minutes. At the same rate, how many pages do "
    "{a2} printers print in {b2} minutes?",
]


def _two_distinct(rng: random.Random, low: int, high: int) -> Tuple[int, int]:
    """Two different random integers in [low, high]."""
    first, second = rng.sample(range(low, high + 1), 2)
    return first, second


def _rate_problem(rng: random.Random, reverse: bool) -> Tuple[str, int, dict]:
    """A rate of ``rate`` per unit: scale it to q2 units, or (reverse) find the units giving t2."""
    template = rng.choice(_RATE_TEMPLATES)
    item = rng.choice(template.get("items", [""]))
    if reverse:
        rate, (q1, q2) = rng.randint(5, 60), _two_distinct(rng, 3, 25)
    else:
        rate, (q1, q2) = rng.randint(2, 12), _two_distinct(rng, 2, 10)
    t1, t2 = rate * q1, rate * q2
    ask = "reverse" if reverse else "scale"
    text = f"{template['given']} {template[ask]}".format(q1=q1, t1=t1, q2=q2, t2=t2, item=item)
    if reverse:
        return text, q2, {"kind": ask, "q1": q1, "t1": t1, "t2": t2}
    return text, t2, {"kind": ask, "q1": q1, "t1": t1, "q2": q2}


def _inverse_problem(rng: random.Random) -> Tuple[str, int, dict]:
    """``a1 * b1 = a2 * b2`` (the same amount of work): ask for b2."""
    a1, a2 = _two_distinct(rng, 2, 12)
    work = a1 * a2 // math.gcd(a1, a2) * rng.randint(1, 4)
    b1, b2 = work // a1, work // a2
    text = rng.choice(_INVERSE_TEMPLATES).format(a1=a1, b1=b1, a2=a2)
    return text, b2, {"kind": "inverse", "a1": a1, "b1": b1, "a2": a2}


def _joint_problem(rng: random.Random) -> Tuple[str, int, dict]:
    """``total ∝ a * b``: t2 = t1 * (a2 * b2) / (a1 * b1)."""
    rate = rng.randint(2, 15)
    (a1, a2), (b1, b2) = _two_distinct(rng, 2, 12), _two_distinct(rng, 2, 12)
    t1, t2 = rate * a1 * b1, rate * a2 * b2
    text = rng.choice(_JOINT_TEMPLATES).format(a1=a1, t1=t1, b1=b1, a2=a2, b2=b2)
    return text, t2, {"kind": "joint", "a1": a1, "b1": b1, "t1": t1, "a2": a2, "b2": b2}


def unit_rate(index: int, rng: random.Random, difficulty: int) -> dict:
    """Proportion word problems with integer answers.

    ``metadata["kind"]`` names the formula and holds the numbers of the prompt:
    scale: ``t1 / q1 * q2``; reverse: ``t2 / (t1 / q1)``; inverse: ``a1 * b1 / a2``;
    joint: ``t1 / (a1 * b1) * a2 * b2``."""
    if difficulty == 1:
        text, answer, metadata = _rate_problem(rng, reverse=False)
    elif difficulty == 3:
        text, answer, metadata = _joint_problem(rng)
    elif rng.random() < 0.5:
        text, answer, metadata = _rate_problem(rng, reverse=True)
    else:
        text, answer, metadata = _inverse_problem(rng)
    return make_problem("unit_rate", index, difficulty, text, answer, metadata)
