"""Resource quantities: the strings Kubernetes uses for amounts of CPU, memory and the like.

A quantity is a decimal number followed by an optional suffix: a binary one (``Ki``, ``Mi``,
``Gi``, ``Ti``, ``Pi``, ``Ei`` — powers of 1024), a decimal one (``n``, ``u``, ``m``, ``k``,
``M``, ``G``, ``T``, ``P``, ``E`` — powers of 1000) or a decimal exponent (``1e3``, ``2E-3``).
``"500m"`` CPU is half a core, ``"128Mi"`` memory is 134217728 bytes. The scheduler compares
CPU in millicores and everything else in whole units, so the two helpers here round up the way
upstream's ``MilliValue`` and ``Value`` do: a request never shrinks by parsing.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_PATTERN = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[a-zA-Z]*)$")

_SUFFIXES: dict[str, Fraction] = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}


class QuantityError(ValueError):
    """The text is not a quantity Kubernetes would accept."""


def parse_quantity(text: str | int | float) -> Fraction:
    """The exact value of a quantity, as a fraction (so ``"0.1"`` stays exactly a tenth)."""
    if isinstance(text, bool):
        raise QuantityError(f"quantities must be strings or numbers, not {text!r}")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    match = _PATTERN.match(text.strip())
    if match is None:
        raise QuantityError(f"unable to parse quantity's suffix: {text!r}")
    number, suffix = match.groups()
    value = Fraction(number)
    if suffix in _SUFFIXES:
        return value * _SUFFIXES[suffix]
    exponent = suffix[1:].lstrip("+-")
    if suffix[:1] in ("e", "E") and exponent.isdigit():  # "1E" alone is exa, above
        return value * Fraction(10) ** int(suffix[1:])
    raise QuantityError(f"unable to parse quantity's suffix: {text!r}")


def milli_value(text: str | int | float) -> int:
    """The quantity in thousandths, rounded up (CPU ``"100m"`` → 100, ``"1"`` → 1000)."""
    return math.ceil(parse_quantity(text) * 1000)


def value(text: str | int | float) -> int:
    """The quantity in whole units, rounded up (memory ``"1Ki"`` → 1024, ``"1.5"`` → 2)."""
    return math.ceil(parse_quantity(text))
