"""The PersistentVolume binder: static volumes matched to claims by every rule, and phases."""

from __future__ import annotations

from minikube_py.client import Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from tests.controllers.stepping import eventually
from tests.controllers.storage_harness import (
    claim,
    events_of,
    get_claim,
    get_volume,
    phase_of_claim,
    phase_of_volume,
    storage_controllers,
    volume,
)

NO_CLASS = "no persistent volumes available for this claim and no storage class is set"


async def bound_to(client: Client, name: str) -> str | None:
    """The volume the claim is bound to, once its phase is Bound."""
    found = await get_claim(client, name)
    if found is None or (found.get("status") or {}).get("phase") != "Bound":
        return None
    return str(found["spec"].get("volumeName"))


async def test_a_static_volume_is_bound_with_upstreams_annotations(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("pv-a", "2Gi"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data", "500Mi"))
        assert await eventually(lambda: bound_to(client, "data"), "the claim bound") == "pv-a"
        await eventually(lambda: _is(phase_of_volume(client, "pv-a"), "Bound"), "the PV Bound")
        pvc = await get_claim(client, "data")
        pv = await get_volume(client, "pv-a")
        assert pvc is not None and pv is not None
        assert pvc["metadata"]["annotations"] == {
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
        }
        assert pvc["status"]["capacity"] == {"storage": "2Gi"}
        assert pvc["status"]["accessModes"] == ["ReadWriteOnce"]
        assert pv["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
        ref = pv["spec"]["claimRef"]
        assert (ref["namespace"], ref["name"], ref["uid"]) == (
            "default",
            "data",
            pvc["metadata"]["uid"],
        )
        assert pv["status"].get("lastPhaseTransitionTime")


async def _is(awaitable: object, wanted: object) -> bool:
    return bool(await awaitable == wanted)  # type: ignore[misc]


async def test_the_smallest_fitting_volume_is_chosen(client: Client) -> None:
    async with storage_controllers(client):
        for name, size in (("huge", "100Gi"), ("small", "500Mi"), ("fits", "2Gi"), ("big", "5Gi")):
            await client.create(PERSISTENT_VOLUMES, None, volume(name, size))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data", "1Gi"))
        assert await eventually(lambda: bound_to(client, "data"), "bound") == "fits"


async def test_access_modes_must_be_offered_and_fewest_modes_win(client: Client) -> None:
    async with storage_controllers(client):
        many = ("ReadWriteOnce", "ReadWriteMany")
        await client.create(PERSISTENT_VOLUMES, None, volume("many", "1Gi", modes=many))
        await client.create(PERSISTENT_VOLUMES, None, volume("once", "5Gi"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("rwo", "1Gi"))
        assert await eventually(lambda: bound_to(client, "rwo"), "rwo bound") == "once"
        rwx = claim("rwx", "1Gi", modes=("ReadWriteMany",))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", rwx)
        assert await eventually(lambda: bound_to(client, "rwx"), "rwx bound") == "many"


async def test_the_class_must_match_and_a_classless_claim_says_why(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("fast", storage_class="fast"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("plain"))
        await eventually(
            lambda: _has(events_of(client, "plain"), ("FailedBinding", NO_CLASS)), "FailedBinding"
        )
        assert await phase_of_claim(client, "plain") == "Pending"
        fast = claim("quick", storage_class="fast")
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", fast)
        assert await eventually(lambda: bound_to(client, "quick"), "bound") == "fast"
        assert await phase_of_claim(client, "plain") == "Pending"


async def _has(awaitable: object, wanted: tuple[str, str]) -> bool:
    return wanted in await awaitable  # type: ignore[misc]


async def test_a_selector_picks_by_labels(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("ssd", "5Gi", labels={"disk": "ssd"}))
        await client.create(PERSISTENT_VOLUMES, None, volume("hdd", "1Gi", labels={"disk": "hdd"}))
        wanted = claim("data", selector={"matchLabels": {"disk": "ssd"}})
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", wanted)
        assert await eventually(lambda: bound_to(client, "data"), "bound") == "ssd"


async def test_a_claim_naming_its_volume_gets_that_one(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("first", "1Gi"))
        await client.create(PERSISTENT_VOLUMES, None, volume("second", "1Gi"))
        named = claim("data", volume_name="second")
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", named)
        assert await eventually(lambda: bound_to(client, "data"), "bound") == "second"
        pvc = await get_claim(client, "data")
        assert pvc is not None
        # the user chose the volume: only bind-completed, not bound-by-controller
        assert pvc["metadata"]["annotations"] == {"pv.kubernetes.io/bind-completed": "yes"}
        too_small = claim("big", "10Gi", volume_name="first")
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", too_small)
        mismatch = (
            "VolumeMismatch",
            'Cannot bind to requested volume "first": requested PV is too small',
        )
        await eventually(lambda: _has(events_of(client, "big"), mismatch), "VolumeMismatch")
        assert await phase_of_volume(client, "first") == "Available"


async def test_a_volume_reserved_by_claim_ref_waits_for_its_claim(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("reserved", claim=("default", "mine")))
        await eventually(lambda: _is(phase_of_volume(client, "reserved"), "Available"), "Available")
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("other"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("mine"))
        assert await eventually(lambda: bound_to(client, "mine"), "bound") == "reserved"
        assert await phase_of_claim(client, "other") == "Pending"
        pv = await get_volume(client, "reserved")
        assert pv is not None
        assert "pv.kubernetes.io/bound-by-controller" not in (
            pv["metadata"].get("annotations") or {}
        )


async def test_retain_keeps_a_released_volume(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("kept", policy="Retain"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
        await eventually(lambda: bound_to(client, "data"), "bound")
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "data")
        await eventually(lambda: _is(phase_of_volume(client, "kept"), "Released"), "Released")
        await eventually(lambda: _is(get_claim(client, "data"), None), "the claim gone")
        # released volumes are not handed out again
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("again"))
        await eventually(
            lambda: _has(events_of(client, "again"), ("FailedBinding", NO_CLASS)), "no match"
        )
        assert await phase_of_volume(client, "kept") == "Released"


async def test_delete_without_a_deleter_fails_the_volume(client: Client) -> None:
    async with storage_controllers(client):
        local = {"local": {"path": "/mnt/disk"}}
        await client.create(PERSISTENT_VOLUMES, None, volume("disk", policy="Delete", source=local))
        await client.create(PERSISTENT_VOLUMES, None, volume("var", policy="Delete", path="/var/x"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("a", volume_name="disk"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("b", volume_name="var"))
        await eventually(lambda: bound_to(client, "a"), "a bound")
        await eventually(lambda: bound_to(client, "b"), "b bound")
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "a")
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "b")
        await eventually(lambda: _is(phase_of_volume(client, "disk"), "Failed"), "disk Failed")
        await eventually(lambda: _is(phase_of_volume(client, "var"), "Failed"), "var Failed")
        no_plugin = (
            'error getting deleter volume plugin for volume "disk": '
            "no deletable volume plugin matched"
        )
        refused = (
            'failed to create deleter for volume "var": host_path deleter only supports '
            "/tmp/.+ but received provided /var/x"
        )
        disk = await get_volume(client, "disk")
        assert disk is not None and disk["status"]["message"] == no_plugin
        await eventually(
            lambda: _has(events_of(client, "disk"), ("VolumeFailedDelete", no_plugin)), "event"
        )
        await eventually(
            lambda: _has(events_of(client, "var"), ("VolumeFailedDelete", refused)), "event"
        )
