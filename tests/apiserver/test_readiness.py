"""``/readyz`` waits for the bootstrap objects, as upstream's waits for its post-start hooks;
``/livez`` and ``/healthz`` do not. The CLI prints its "serving" line once the server listens
and has bootstrapped, so clients that start polling then see 200 at once."""

from __future__ import annotations

from minikube_py.apiserver.app import BOOTSTRAP_CHECK, _health


def test_readyz_fails_until_bootstrapped_listing_every_check() -> None:
    for verbose in (False, True):
        reply = _health("/readyz", verbose=verbose, ready=False)
        assert reply.status == 500
        assert reply.text is not None
        assert f"[-]{BOOTSTRAP_CHECK} failed: reason withheld" in reply.text
        assert reply.text.endswith("readyz check failed\n")


def test_readyz_passes_once_bootstrapped() -> None:
    assert _health("/readyz", verbose=False, ready=True).text == "ok"
    verbose = _health("/readyz", verbose=True, ready=True)
    assert verbose.status == 200 and verbose.text is not None
    assert f"[+]{BOOTSTRAP_CHECK} ok" in verbose.text
    assert verbose.text.endswith("readyz check passed\n")


def test_liveness_does_not_wait_for_bootstrap() -> None:
    for path in ("/livez", "/healthz"):
        reply = _health(path, verbose=True, ready=False)
        assert reply.status == 200 and reply.text is not None
        assert BOOTSTRAP_CHECK not in reply.text
