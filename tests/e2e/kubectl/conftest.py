"""Fixtures of the built-in kubectl's golden tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl


@pytest.fixture
def ns(kubectl: Kubectl, unique: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace for this test alone (named after its module), removed afterwards whatever
    happened."""
    name = unique(request.module.__name__.rpartition(".test_")[2].replace("_", "-"))
    kubectl.out("create", "namespace", name)
    try:
        yield name
    finally:
        kubectl.run("delete", "namespace", name, "--wait=false", check=False)
