"""One route per kind of answer: maths, multiple choice, knowledge, code, countdown, logic puzzles.

Each route turns a response (and its reference) into the verdict fields of
:func:`transforms.verify.verdicts.verdict_fields`; :mod:`transforms.verify.dispatch`
picks the route of a rollout."""
