"""The ``pause`` image: a process that does nothing until it is told to stop.

In Kubernetes the pause container holds a pod's namespaces open while app containers come and
go. Here it simply sleeps until SIGTERM (or SIGINT) and then exits 0, so a pod made only of
``pause`` behaves like the real one under ``kubectl delete``.
"""

from __future__ import annotations

import signal
import sys
import threading


def main() -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Waiting in slices keeps the main thread able to run the signal handler promptly.
    while not stop.wait(1.0):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
