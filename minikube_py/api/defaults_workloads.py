"""Defaults for pod specs and the workload kinds that stamp pods out of a template.

A pod you write as ``{containers: [{name: web, image: nginx}]}`` is stored with a dozen more
fields: ``restartPolicy: Always``, ``dnsPolicy: ClusterFirst``, a 30 second grace period, an
``imagePullPolicy`` derived from the image tag, ``terminationMessagePath`` and so on. The same
pod-spec defaults apply inside the template of every Deployment, ReplicaSet, StatefulSet,
DaemonSet, Job, CronJob, ReplicationController and PodTemplate, so ``kubectl get deploy -o
yaml`` shows them too; each workload kind adds its own (``replicas: 1``, a ``RollingUpdate``
strategy with ``25%`` surge, ``backoffLimit: 6``, …).

Values and conditions follow ``pkg/apis/{core,apps,batch}/v1/defaults.go`` of Kubernetes 1.32
(including the feature gates that are on by default). Defaulting only fills what is missing
(``null`` counts as missing, and ``""`` for string fields, as in Go) and never raises: a value
of the wrong type is left for validation to report.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]


def child(parent: JSON, key: str) -> JSON:
    """``parent[key]``, created when missing; a wrong-typed value yields a detached dict."""
    if parent.get(key) is None:
        parent[key] = {}
    value = parent[key]
    return value if isinstance(value, dict) else {}


def dicts(parent: Any, key: str) -> list[JSON]:
    """The dict items of the list ``parent[key]`` (nothing when absent or malformed)."""
    items = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def default(parent: JSON, key: str, value: Any) -> None:
    """Set a pointer-like field: only when it is missing or null."""
    if parent.get(key) is None:
        parent[key] = value


def default_text(parent: JSON, key: str, value: str) -> None:
    """Set a string field: also when it is empty, as Go cannot tell "" from unset."""
    if parent.get(key) in (None, ""):
        parent[key] = value


def default_number(parent: JSON, key: str, value: int) -> None:
    """Set a plain integer field: also when it is 0."""
    current = parent.get(key)
    if current is None or (current == 0 and not isinstance(current, bool)):
        parent[key] = value


_NAME = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}(?:\.{_DOMAIN})*(?::[0-9]+)?/)?{_NAME}(?:/{_NAME})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?P<digest>@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def pull_policy(image: Any) -> str:
    """``Always`` for ``:latest`` or no tag (which means latest), else ``IfNotPresent``.

    An image reference that does not parse gets ``IfNotPresent``, as upstream's
    ``parsers.ParseImageName`` returns no tag for it.
    """
    found = _REFERENCE.fullmatch(image) if isinstance(image, str) else None
    if found is None:
        return "IfNotPresent"
    tag = found.group("tag") or ("" if found.group("digest") else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_handler(handler: Any) -> None:
    http = handler.get("httpGet") if isinstance(handler, dict) else None
    if isinstance(http, dict):
        default_text(http, "path", "/")
        default_text(http, "scheme", "HTTP")


def _default_field_refs(items: list[JSON]) -> None:
    for item in items:
        source = item.get("valueFrom") if "valueFrom" in item else item
        field_ref = source.get("fieldRef") if isinstance(source, dict) else None
        if isinstance(field_ref, dict):
            default_text(field_ref, "apiVersion", "v1")


def default_container(container: JSON) -> None:
    default_text(container, "imagePullPolicy", pull_policy(container.get("image")))
    default_text(container, "terminationMessagePath", "/dev/termination-log")
    default_text(container, "terminationMessagePolicy", "File")
    default(container, "resources", {})  # a struct in Go: always present in output
    for port in dicts(container, "ports"):
        default_text(port, "protocol", "TCP")
    _default_field_refs(dicts(container, "env"))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(kind)
        if isinstance(probe, dict):
            for key, value in (
                ("timeoutSeconds", 1),
                ("periodSeconds", 10),
                ("successThreshold", 1),
                ("failureThreshold", 3),
            ):
                default_number(probe, key, value)
            _default_handler(probe)
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_handler(lifecycle.get("postStart"))
        _default_handler(lifecycle.get("preStop"))


# Every member of core/v1 VolumeSource; a volume naming none of them becomes an emptyDir.
_SOURCE_NAMES = (
    "hostPath emptyDir gcePersistentDisk awsElasticBlockStore gitRepo secret nfs iscsi glusterfs "
    "persistentVolumeClaim rbd flexVolume cinder cephfs flocker downwardAPI fc azureFile "
    "configMap vsphereVolume quobyte azureDisk photonPersistentDisk projected portworxVolume "
    "scaleIO storageos csi ephemeral image"
)
VOLUME_SOURCES = tuple(_SOURCE_NAMES.split())


def default_volume(volume: JSON) -> None:
    if all(volume.get(source) is None for source in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            default(volume[source], "defaultMode", 0o644)  # 420 on the wire
    if isinstance(volume.get("hostPath"), dict):
        default(volume["hostPath"], "type", "")
    _default_field_refs(dicts(volume.get("downwardAPI"), "items"))
    for projection in dicts(volume.get("projected"), "sources"):
        if isinstance(projection.get("serviceAccountToken"), dict):
            default(projection["serviceAccountToken"], "expirationSeconds", 3600)
        _default_field_refs(dicts(projection.get("downwardAPI"), "items"))
    ephemeral = volume.get("ephemeral")
    claim = ephemeral.get("volumeClaimTemplate") if isinstance(ephemeral, dict) else None
    if isinstance(claim, dict):
        default(child(claim, "spec"), "volumeMode", "Filesystem")


def default_pod_spec(spec: JSON) -> None:
    """``SetDefaults_PodSpec`` plus the container and volume defaults inside it."""
    default_text(spec, "dnsPolicy", "ClusterFirst")
    default_text(spec, "restartPolicy", "Always")
    default(spec, "securityContext", {})
    default(spec, "terminationGracePeriodSeconds", 30)
    default_text(spec, "schedulerName", "default-scheduler")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in dicts(spec, key):
            default_container(container)
    for volume in dicts(spec, "volumes"):
        default_volume(volume)


def default_pod_template(parent: JSON, key: str = "template") -> None:
    default_pod_spec(child(child(parent, key), "spec"))


def default_claim(claim: JSON) -> None:
    """A PersistentVolumeClaim, alone or as a StatefulSet's claim template."""
    default_text(child(claim, "status"), "phase", "Pending")
    default(child(claim, "spec"), "volumeMode", "Filesystem")


def default_deployment(obj: JSON) -> None:
    spec = child(obj, "spec")
    default(spec, "replicas", 1)
    strategy = child(spec, "strategy")
    default_text(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        rolling = child(strategy, "rollingUpdate")
        default(rolling, "maxUnavailable", "25%")
        default(rolling, "maxSurge", "25%")
    default(spec, "revisionHistoryLimit", 10)
    default(spec, "progressDeadlineSeconds", 600)
    default_pod_template(spec)


def default_replica_set(obj: JSON) -> None:
    spec = child(obj, "spec")
    default(spec, "replicas", 1)
    default_pod_template(spec)


def default_stateful_set(obj: JSON) -> None:
    spec = child(obj, "spec")
    default_text(spec, "podManagementPolicy", "OrderedReady")
    strategy = child(spec, "updateStrategy")
    if strategy.get("type") in (None, ""):
        strategy["type"] = "RollingUpdate"
        default(strategy, "rollingUpdate", {})
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "RollingUpdate" and isinstance(rolling, dict):
        default(rolling, "partition", 0)
    retention = child(spec, "persistentVolumeClaimRetentionPolicy")  # StatefulSetAutoDeletePVC
    default_text(retention, "whenDeleted", "Retain")
    default_text(retention, "whenScaled", "Retain")
    default(spec, "replicas", 1)
    default(spec, "revisionHistoryLimit", 10)
    default_pod_template(spec)
    for claim in dicts(spec, "volumeClaimTemplates"):
        default_claim(claim)


def default_daemon_set(obj: JSON) -> None:
    spec = child(obj, "spec")
    strategy = child(spec, "updateStrategy")
    default_text(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        rolling = child(strategy, "rollingUpdate")
        default(rolling, "maxUnavailable", 1)
        default(rolling, "maxSurge", 0)
    default(spec, "revisionHistoryLimit", 10)
    default_pod_template(spec)


def default_job(obj: JSON) -> None:
    """``SetDefaults_Job``; the template's restartPolicy becomes Always, which validation
    then refuses with upstream's "Required value: valid values: "OnFailure", "Never"".
    """
    spec = child(obj, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    default(spec, "parallelism", 1)
    per_index = spec.get("backoffLimitPerIndex") is not None
    default(spec, "backoffLimit", 2**31 - 1 if per_index else 6)
    copy_template_labels(obj, spec)
    default(spec, "completionMode", "NonIndexed")
    default(spec, "suspend", False)
    failure_policy = spec.get("podFailurePolicy")
    for rule in dicts(failure_policy, "rules"):
        for pattern in dicts(rule, "onPodConditions"):
            default_text(pattern, "status", "True")
    replacement = "TerminatingOrFailed" if failure_policy is None else "Failed"
    default(spec, "podReplacementPolicy", replacement)
    default_pod_template(spec)


def copy_template_labels(obj: JSON, spec: JSON) -> None:
    """An object without labels takes its pod template's (Jobs, ReplicationControllers)."""
    template = spec.get("template")
    meta = template.get("metadata") if isinstance(template, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if isinstance(labels, dict) and labels and not child(obj, "metadata").get("labels"):
        child(obj, "metadata")["labels"] = dict(labels)


def default_cron_job(obj: JSON) -> None:
    spec = child(obj, "spec")
    default_text(spec, "concurrencyPolicy", "Allow")
    default(spec, "suspend", False)
    default(spec, "successfulJobsHistoryLimit", 3)
    default(spec, "failedJobsHistoryLimit", 1)
    default_pod_template(child(child(spec, "jobTemplate"), "spec"))


JOB_LABELS = (
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
)


def generate_job_selector(job: JSON) -> None:
    """What the Job registry does on create unless ``spec.manualSelector`` is true.

    It labels the pod template with the job's uid and name and selects on the uid, so a
    Job never adopts another's pods. Call it after the uid is set and before validation; it
    also copies the template labels onto the Job, as re-reading it from storage would.
    """
    spec = child(job, "spec")
    if spec.get("manualSelector") is True:
        return
    meta = child(job, "metadata")
    uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
    labels = child(child(spec, "template"), "metadata")
    labels = child(labels, "labels")
    for key, value in zip(JOB_LABELS, (uid, name, uid, name), strict=True):
        labels.setdefault(key, value)  # conflicting user labels are left for validation
    match = child(child(spec, "selector"), "matchLabels")
    match.setdefault(JOB_LABELS[0], uid)
    if not meta.get("labels"):
        meta["labels"] = dict(labels)
