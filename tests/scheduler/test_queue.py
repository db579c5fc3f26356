from minikube_py.scheduler.queue import SchedulingQueue, pod_key

from .helpers import pod


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_priority_then_arrival() -> None:
    queue = SchedulingQueue(Clock())
    queue.add(pod("low"))
    queue.add(pod("high", priority=1000))
    queue.add(pod("low2"))
    names = [p["metadata"]["name"] for p in iter(queue.pop, None)]
    assert names == ["high", "low", "low2"]


def test_backoff_doubles_up_to_the_cap() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock, initial_backoff=1.0, max_backoff=4.0)
    queue.add(pod())
    delays = []
    for _ in range(4):
        assert queue.pop() is not None
        queue.failed("default/web")
        queue.move_all_to_active_or_backoff()  # an event, but the backoff still holds
        assert queue.pop() is None
        delay = queue.next_ready_in()
        assert delay is not None
        delays.append(delay)
        clock.now += delay
    assert delays == [1.0, 2.0, 4.0, 4.0]


def test_unschedulable_waits_for_an_event() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock)
    queue.add(pod())
    queue.pop()
    queue.failed("default/web")
    clock.now += 60
    assert queue.pop() is None and queue.next_ready_in() == 240.0  # the 5-minute leftover flush
    assert queue.pending()["unschedulable"] == ["default/web"]
    queue.move_all_to_active_or_backoff()
    popped = queue.pop()
    assert popped is not None and pod_key(popped) == "default/web"


def test_update_of_parked_pod_retries_it_and_delete_forgets() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock)
    queue.add(pod())
    queue.pop()
    queue.failed("default/web")
    clock.now += 60
    queue.add(pod(nodeSelector={"a": "b"}))
    popped = queue.pop()
    assert popped is not None and popped["spec"]["nodeSelector"] == {"a": "b"}
    queue.add(pod("other"))
    queue.delete("default/other")
    assert queue.pop() is None and len(queue) == 1


def test_a_pod_parked_for_five_minutes_is_retried_without_an_event() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock)
    queue.add(pod())
    queue.pop()
    queue.failed("default/web")
    clock.now += 299
    assert queue.pop() is None and queue.next_ready_in() == 1.0
    clock.now += 1
    popped = queue.pop()
    assert popped is not None and pod_key(popped) == "default/web"


def test_status_only_updates_do_not_wake_a_parked_pod() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock)
    queue.add(pod())
    queue.pop()
    queue.failed("default/web")
    clock.now += 60
    queue.add(pod(), activate=False)
    assert queue.pop() is None and queue.pending()["unschedulable"] == ["default/web"]
