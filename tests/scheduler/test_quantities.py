from fractions import Fraction

import pytest

from minikube_py.api.quantities import QuantityError, milli_value, parse_quantity, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("128Mi", 128 * 2**20),
        ("1Ki", 1024),
        ("2Gi", 2 * 2**30),
        ("1Ti", 2**40),
        ("1Pi", 2**50),
        ("1Ei", 2**60),
        ("1k", 1000),
        ("1M", 10**6),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),
        ("1e3", 1000),
        ("1.5", 2),  # rounds up like upstream's Value()
        (5, 5),
    ],
)
def test_value(text: str, expected: int) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100m", 100), ("1", 1000), ("0.5", 500), ("0.1", 100), ("1500u", 2), ("2", 2000)],
)
def test_milli_value(text: str, expected: int) -> None:
    assert milli_value(text) == expected


def test_exact_fractions() -> None:
    assert parse_quantity("0.1") == Fraction(1, 10)
    assert parse_quantity("5n") == Fraction(5, 10**9)


@pytest.mark.parametrize("text", ["", "abc", "1Qi", "1..2", "Mi", "1ex"])
def test_rejects_garbage(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
