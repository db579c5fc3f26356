"""Printer cells of workloads, events, configuration and cluster-level kinds (kubectl 1.32)."""

from __future__ import annotations

from tests.api.test_printers import container
from tests.api.test_tables import ago, cells, rt_of


def test_deployment_with_status() -> None:
    deploy = {
        "metadata": {"name": "web", "creationTimestamp": ago(minutes=42)},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "canary"]}
                ],
            },
            "template": {"spec": {"containers": [container("web"), container("metrics")]}},
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2},
    }
    assert cells(rt_of("apps", "v1", "deployments"), deploy) == {
        "Name": "web",
        "Ready": "2/3",
        "Up-to-date": 3,
        "Available": 2,
        "Age": "42m",
        "Containers": "web,metrics",
        "Images": "web:1,metrics:1",
        "Selector": "app=web,env in (canary,prod)",
    }


def test_replicaset_and_statefulset() -> None:
    rs = {
        "metadata": {"name": "web-abc"},
        "spec": {"replicas": 2},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    row = cells(rt_of("apps", "v1", "replicasets"), rs)
    assert (row["Desired"], row["Current"], row["Ready"], row["Selector"]) == (2, 2, 1, "<none>")
    sts = {"metadata": {"name": "db"}, "status": {"readyReplicas": 1}}
    assert cells(rt_of("apps", "v1", "statefulsets"), sts)["Ready"] == "1/1"


def test_job_and_cronjob() -> None:
    job = {
        "metadata": {"name": "pi", "creationTimestamp": ago(minutes=3)},
        "spec": {"completions": 3, "template": {"spec": {"containers": [container("pi")]}}},
        "status": {"succeeded": 1, "startTime": ago(minutes=3), "conditions": []},
    }
    row = cells(rt_of("batch", "v1", "jobs"), job)
    assert (row["Status"], row["Completions"], row["Duration"], row["Age"]) == (
        "Running", "1/3", "3m", "3m",
    )  # fmt: skip
    done = {
        **job,
        "status": {
            "succeeded": 3,
            "startTime": ago(minutes=3),
            "completionTime": ago(minutes=1, seconds=30),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    row = cells(rt_of("batch", "v1", "jobs"), done)
    assert (row["Status"], row["Completions"], row["Duration"]) == ("Complete", "3/3", "90s")
    cronjob = {
        "metadata": {"name": "tick"},
        "spec": {"schedule": "*/5 * * * *", "suspend": False},
        "status": {"active": [{"name": "tick-1"}], "lastScheduleTime": ago(seconds=40)},
    }
    row = cells(rt_of("batch", "v1", "cronjobs"), cronjob)
    assert (
        row["Schedule"],
        row["Timezone"],
        row["Suspend"],
        row["Active"],
        row["Last Schedule"],
    ) == ("*/5 * * * *", "<none>", "False", 1, "40s")


def test_cluster_kinds() -> None:
    sc = {
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "minikube-py/host",
    }
    row = cells(rt_of("storage.k8s.io", "v1", "storageclasses"), sc)
    assert (
        row["Name"],
        row["ReclaimPolicy"],
        row["VolumeBindingMode"],
        row["AllowVolumeExpansion"],
    ) == ("standard (default)", "Delete", "Immediate", False)
    pvc = {
        "metadata": {"name": "data"},
        "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        },
    }
    row = cells(rt_of("", "v1", "persistentvolumeclaims"), pvc)
    assert (
        row["Status"],
        row["Volume"],
        row["Capacity"],
        row["Access Modes"],
        row["StorageClass"],
        row["VolumeMode"],
    ) == ("Bound", "pv-1", "1Gi", "RWO,RWX", "standard", "<unset>")
    binding = {
        "metadata": {"name": "admins"},
        "roleRef": {"kind": "ClusterRole", "name": "admin"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "ops"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "bot"},
        ],
    }
    row = cells(rt_of("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), binding)
    assert (row["Role"], row["Users"], row["Groups"], row["ServiceAccounts"]) == (
        "ClusterRole/admin",
        "alice",
        "ops",
        "ci/bot",
    )
    role = cells(
        rt_of("rbac.authorization.k8s.io", "v1", "roles"),
        {"metadata": {"name": "r", "creationTimestamp": "2024-05-01T10:00:00Z"}},
    )
    assert role == {"Name": "r", "Created At": "2024-05-01T10:00:00Z"}
    hpa = {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            "minReplicas": 1,
            "targetCPUUtilizationPercentage": 80,
        },
    }
    row = cells(rt_of("autoscaling", "v1", "horizontalpodautoscalers"), hpa)
    assert (row["Reference"], row["Targets"], row["MinPods"], row["MaxPods"]) == (
        "Deployment/web",
        "cpu: <unknown>/80%",
        "1",
        5,
    )
    pdb = cells(
        rt_of("policy", "v1", "poddisruptionbudgets"),
        {"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"}},
    )
    assert (pdb["Min Available"], pdb["Max Unavailable"], pdb["Allowed Disruptions"]) == (
        "50%",
        "N/A",
        0,
    )
    lease = cells(
        rt_of("coordination.k8s.io", "v1", "leases"),
        {"metadata": {"name": "minikube"}, "spec": {"holderIdentity": "minikube"}},
    )
    assert lease["Holder"] == "minikube"
    pc = cells(
        rt_of("scheduling.k8s.io", "v1", "priorityclasses"),
        {"metadata": {"name": "high"}, "value": 1000},
    )
    assert (pc["Value"], pc["Global-Default"], pc["PreemptionPolicy"]) == (1000, False, "")
    csr = cells(
        rt_of("certificates.k8s.io", "v1", "certificatesigningrequests"),
        {
            "metadata": {"name": "c"},
            "spec": {"username": "alice", "expirationSeconds": 86400},
            "status": {
                "conditions": [{"type": "Approved", "status": "True"}],
                "certificate": "eA==",
            },
        },
    )
    assert (csr["Requestor"], csr["RequestedDuration"], csr["Condition"], csr["SignerName"]) == (
        "alice",
        "24h",
        "Approved,Issued",
        "<none>",
    )


def test_simple_core_kinds() -> None:
    ns = cells(
        rt_of("", "v1", "namespaces"),
        {"metadata": {"name": "default"}, "status": {"phase": "Active"}},
    )
    assert ns["Status"] == "Active"
    secret = cells(
        rt_of("", "v1", "secrets"),
        {"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "eA==", "b": "eQ=="}},
    )
    assert (secret["Type"], secret["Data"]) == ("Opaque", 2)
    sa = cells(rt_of("", "v1", "serviceaccounts"), {"metadata": {"name": "default"}})
    assert sa["Secrets"] == 0
    ep = {
        "metadata": {"name": "web"},
        "subsets": [
            {
                "addresses": [{"ip": f"127.244.0.{i}"} for i in range(1, 6)],
                "ports": [{"port": 8080}],
            }
        ],
    }
    assert cells(rt_of("", "v1", "endpoints"), ep)["Endpoints"] == (
        "127.244.0.1:8080,127.244.0.2:8080,127.244.0.3:8080 + 2 more..."
    )
    assert cells(rt_of("", "v1", "endpoints"), {"metadata": {"name": "x"}})["Endpoints"] == "<none>"


def test_events_in_both_shapes() -> None:
    core = {
        "metadata": {"name": "web.17a"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "minikube"},
        "firstTimestamp": ago(minutes=10),
        "lastTimestamp": ago(seconds=30),
        "count": 7,
    }
    assert cells(rt_of("", "v1", "events"), core) == {
        "Last Seen": "30s",
        "Type": "Warning",
        "Reason": "BackOff",
        "Object": "pod/web",
        "Subobject": "spec.containers{app}",
        "Source": "kubelet, minikube",
        "Message": "Back-off restarting failed container",
        "First Seen": "10m",
        "Count": 7,
        "Name": "web.17a",
    }
    newer = {
        "metadata": {"name": "web.17b"},
        "regarding": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet",
        "note": "Scaled up replica set web-abc to 3",
        "type": "Normal",
        "eventTime": ago(minutes=2, seconds=1).replace("Z", ".500000Z"),
        "reportingController": "deployment-controller",
    }
    row = cells(rt_of("events.k8s.io", "v1", "events"), newer)
    assert (row["Last Seen"], row["Object"], row["Message"], row["Source"], row["Count"]) == (
        "2m", "deployment/web", "Scaled up replica set web-abc to 3", "deployment-controller", 1,
    )  # fmt: skip
