"""Where a one-process cluster spends its CPU: a sampling breakdown per component.

The whole cluster (store, API server, controllers, scheduler, kubelets) runs in one process and
one event loop, so the operating system can only say how much CPU the process used, not who
used it. ``CpuSampler`` looks every few milliseconds at each thread's Python stack
(``sys._current_frames``) and charges the sample to the innermost frame that belongs to a
component's package; frames in shared libraries of the project (``minikube_py/api``,
``client``) and third-party code are charged to the component that called them. A thread
waiting (in the event loop's ``select``, on a lock, in ``sleep``) is idle. The process's CPU
time is then split in proportion to the busy samples.

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
# functions in which a thread waits rather than works
IDLE = {"select", "poll", "epoll", "wait", "_wait_for_tstate_lock", "sleep", "acquire", "get"}
IDLE_FILES = ("selectors.py", "threading.py", "queue.py")


def classify(frame: FrameType | None) -> str | None:
    """The component a stack's sample belongs to; ``None`` when the thread is idle."""
    if frame is None:
        return None
    code = frame.f_code
    if code.co_name in IDLE and code.co_filename.endswith(IDLE_FILES):
        return None
    while frame is not None:
        filename = frame.f_code.co_filename
        for fragment, component in COMPONENTS:
            if fragment in filename:
                return component
        frame = frame.f_back
    return "other (event loop, libraries)"


class CpuSampler:
    """Samples every thread's stack in the background between ``start()`` and ``stop()``."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.samples: collections.Counter[str] = collections.Counter()
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
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident != me and (component := classify(frame)) is not None:
                    self.samples[component] += 1

    def breakdown(self, cpu_seconds: float) -> list[tuple[str, float, float]]:
        """(component, CPU seconds, share) in descending order, splitting ``cpu_seconds``."""
        total = sum(self.samples.values()) or 1
        return [
            (component, cpu_seconds * count / total, count / total)
            for component, count in self.samples.most_common()
        ]
