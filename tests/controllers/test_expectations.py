"""Expectations: the cache is trusted only once the controller's own writes show in it."""

from __future__ import annotations

from minikube_py.clock import FakeClock
from minikube_py.controllers import Expectations


def test_no_record_is_satisfied() -> None:
    assert Expectations(FakeClock()).satisfied("ns/rs")


def test_creations_must_all_be_observed() -> None:
    expectations = Expectations(FakeClock())
    expectations.expect_creations("ns/rs", 2)
    assert not expectations.satisfied("ns/rs")
    expectations.creation_observed("ns/rs")
    assert not expectations.satisfied("ns/rs")
    expectations.creation_observed("ns/rs")
    assert expectations.satisfied("ns/rs")
    assert expectations.satisfied("ns/other")  # keys are independent


def test_deletions_must_all_be_observed_and_extra_observations_do_no_harm() -> None:
    expectations = Expectations(FakeClock())
    expectations.expect_deletions("ns/rs", 1)
    assert not expectations.satisfied("ns/rs")
    expectations.deletion_observed("ns/rs")
    expectations.deletion_observed("ns/rs")
    assert expectations.satisfied("ns/rs")


def test_an_unfulfilled_record_expires_after_five_minutes() -> None:
    clock = FakeClock()
    expectations = Expectations(clock)
    expectations.expect_creations("ns/rs", 3)
    clock.advance(300)
    assert not expectations.satisfied("ns/rs")  # upstream: expired only when older than 5 min
    clock.advance(0.001)
    assert expectations.satisfied("ns/rs")


def test_expecting_again_replaces_the_record_and_restarts_its_ttl() -> None:
    clock = FakeClock()
    expectations = Expectations(clock)
    expectations.expect_creations("ns/rs", 1)
    clock.advance(200)
    expectations.expect_deletions("ns/rs", 2)
    record = expectations.get("ns/rs")
    assert record is not None and (record.add, record.delete) == (0, 2)
    clock.advance(200)
    assert not expectations.satisfied("ns/rs")


def test_raise_and_lower() -> None:
    expectations = Expectations(FakeClock())
    expectations.raise_expectations("ns/rs", add=1)  # no record: nothing to raise
    assert expectations.get("ns/rs") is None
    expectations.expect_creations("ns/rs", 1)
    expectations.raise_expectations("ns/rs", add=2, delete=1)
    expectations.lower_expectations("ns/rs", add=3)  # e.g. two creates failed, one was seen
    assert not expectations.satisfied("ns/rs")
    expectations.deletion_observed("ns/rs")
    assert expectations.satisfied("ns/rs")


def test_tracked_deletions_count_only_the_pods_asked_for_once_each() -> None:
    expectations = Expectations(FakeClock())
    expectations.expect_deletions_of("ns/rs", ["ns/p1", "ns/p2"])
    expectations.deletion_observed("ns/rs", "ns/unrelated")
    expectations.deletion_observed("ns/rs", "ns/p1")
    expectations.deletion_observed("ns/rs", "ns/p1")  # marked deleting, then gone: once
    assert not expectations.satisfied("ns/rs")
    expectations.deletion_observed("ns/rs", "ns/p2")
    assert expectations.satisfied("ns/rs")


def test_delete_forgets_the_record() -> None:
    expectations = Expectations(FakeClock())
    expectations.expect_deletions_of("ns/rs", ["ns/p1"])
    expectations.delete("ns/rs")
    assert expectations.satisfied("ns/rs")
    assert expectations.get("ns/rs") is None
