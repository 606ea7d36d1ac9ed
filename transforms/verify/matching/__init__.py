"""Cheap answer comparisons, without sympy: numbers and structures, prose and knowledge
answers, and the answer keys majority votes count.

Plain functions, standard library only (no Beam, no sympy): model text is only ever
matched with regular expressions and compared as strings or exact ``Fraction``s.
"""
