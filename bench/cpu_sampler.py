"""Where a one-process cluster spends its CPU: a sampling breakdown per component.

The whole cluster (store, API server, controllers, scheduler, kubelets) runs in one process and
one event loop, so the operating system can only say how much CPU the process used, not who
used it. ``CpuSampler`` wakes every few milliseconds and, for each thread, reads the CPU time
the thread used since the last look (Linux keeps one clock per thread:
``pthread_getcpuclockid``) and charges it to what the thread is running now
(``sys._current_frames``): the innermost frame that belongs to a component's package. Frames
in the project's shared libraries (``minikube_py/api``, ``client``) and in third-party code
are charged to the component that called them; CPU spent with no component on the stack (the
event loop itself, waiting in ``select``) is "other". A waiting thread uses no CPU, so it
costs nothing.

Sampling costs a little of the CPU it measures (one thread waking 200 times a second) and is
statistical: shares under a few per cent are noise.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from types import FrameType

# (path fragment, component), first match wins, checked from the innermost frame outwards
COMPONENTS = (
    ("/minikube_py/store/", "store"),
    ("/minikube_py/apiserver/", "API server"),
    ("/minikube_py/controllers/", "controllers"),
    ("/minikube_py/scheduler/", "scheduler"),
    ("/minikube_py/kubelet/", "kubelets"),
    ("/minikube_py/runtime/", "kubelets"),
)
OTHER = "other (event loop, libraries)"


def classify(frame: FrameType | None) -> str:
    """The component a thread's current stack belongs to."""
    while frame is not None:
        filename = frame.f_code.co_filename
        for fragment, component in COMPONENTS:
            if fragment in filename:
                return component
        frame = frame.f_back
    return OTHER


def thread_cpu(ident: int) -> float | None:
    """CPU seconds the thread has used, ``None`` if it is gone."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (OSError, ValueError):
        return None


class CpuSampler:
    """Samples every thread's stack in the background between ``start()`` and ``stop()``."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.seconds: collections.Counter[str] = collections.Counter()  # CPU s by component
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._cpu = 0.0

    def start(self) -> None:
        self._cpu = time.process_time()
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; the process CPU seconds used since ``start``."""
        self._stop.set()
        self._thread.join()
        return time.process_time() - self._cpu

    def _run(self) -> None:
        me = threading.get_ident()
        last: dict[int, float] = {}
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me or (now := thread_cpu(ident)) is None:
                    continue
                before = last.get(ident)
                last[ident] = now
                if before is not None and now > before:
                    self.seconds[classify(frame)] += now - before

    def breakdown(self, cpu_seconds: float) -> list[tuple[str, float, float]]:
        """(component, CPU seconds, share) in descending order; the shares split
        ``cpu_seconds`` (the process's own figure, which includes the sampler)."""
        total = sum(self.seconds.values()) or 1.0
        return [
            (component, cpu_seconds * used / total, used / total)
            for component, used in self.seconds.most_common()
        ]
