from minikube_py.scheduler.resources import host_ports, pod_requests, ports_conflict, tolerates

from .helpers import pod


def _c(name: str, cpu: str, memory: str, **extra: str) -> dict[str, object]:
    return {"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}, **extra}


def test_app_containers_sum() -> None:
    p = pod(cpu="250m", memory="64Mi")
    p["spec"]["containers"].append(_c("b", "250m", "64Mi"))
    assert pod_requests(p) == {"cpu": 500, "memory": 128 * 2**20}


def test_init_container_peak_wins_when_larger() -> None:
    p = pod(cpu="100m", memory="10Mi", initContainers=[_c("init", "2", "5Mi")])
    assert pod_requests(p) == {"cpu": 2000, "memory": 10 * 2**20}


def test_sidecars_accumulate_and_overhead_adds() -> None:
    p = pod(
        cpu="100m",
        memory="10Mi",
        initContainers=[
            _c("sidecar", "200m", "1Mi", restartPolicy="Always"),
            _c("init", "250m", "1Mi"),
        ],
        overhead={"cpu": "10m"},
    )
    # app 100m + sidecar 200m = 300m; the init needs 250m + 200m = 450m > 300m; + overhead
    assert pod_requests(p)["cpu"] == 460
    assert pod_requests(p)["memory"] == 11 * 2**20


def test_no_requests() -> None:
    assert pod_requests(pod()) == {}


def test_host_ports_and_conflicts() -> None:
    p = pod()
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    assert host_ports(p) == [("TCP", "0.0.0.0", 8080)]
    assert ports_conflict(("TCP", "127.0.0.1", 80), ("TCP", "0.0.0.0", 80))
    assert not ports_conflict(("TCP", "127.0.0.1", 80), ("TCP", "127.0.0.2", 80))
    assert not ports_conflict(("UDP", "0.0.0.0", 80), ("TCP", "0.0.0.0", 80))


def test_tolerates() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    assert tolerates({"key": "dedicated", "value": "gpu"}, taint)
    assert tolerates({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}, taint)
    assert tolerates({"operator": "Exists"}, taint)
    assert not tolerates({"key": "dedicated", "value": "cpu"}, taint)
    assert not tolerates({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, taint)
