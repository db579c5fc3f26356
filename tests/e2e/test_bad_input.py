"""Bad input never breaks the server: no 5xx, no hang, no crash, and no change to stored data.

Hypothesis generates request bodies (random JSON, objects with fields of the wrong type, deep
nesting, huge strings, bytes that are not UTF-8), paths and query strings; aiohttp sends them
with the admin certificate. Every answer must come within a bounded time and be a ``Status``
error in the 4xx range unless the request happened to be valid; a rejected request must leave
every stored object exactly as it was (same resourceVersion). The explicit tests at the end pin
upstream's answers: 413 over 3 MiB, 400 for malformed JSON, 404 for an unknown resource, 400
for a body of the wrong kind.
"""

from __future__ import annotations

import asyncio
import copy
import json
import ssl
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.e2e.conftest import Server

T = TypeVar("T")
REQUEST_SECONDS = 15.0  # longer than this is a hang
MIB = 1024 * 1024

FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,  # nothing written next to the sources
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    streaming: bool = False  # a watch that was still open when we stopped reading

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """An aiohttp session on its own event loop thread, driven from synchronous tests."""

    def __init__(self, server: Server) -> None:
        self.base = f"https://127.0.0.1:{server.port}"
        context = ssl.create_default_context(cafile=str(server.ca_cert))
        context.load_cert_chain(server.client_cert, server.client_key)
        self._context = context
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession = self.run(self._open())

    async def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self._context, limit=4),
            timeout=aiohttp.ClientTimeout(total=REQUEST_SECONDS),
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(REQUEST_SECONDS + 5)

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def request(
        self,
        method: str,
        path_and_query: str,
        *,
        body: bytes | None = None,
        content_type: str | None = "application/json",
        stream_ok: bool = False,
    ) -> Reply:
        """``path_and_query`` is sent exactly as given (already percent-encoded)."""
        return self.run(self._request(method, path_and_query, body, content_type, stream_ok))

    async def _request(
        self,
        method: str,
        path_and_query: str,
        body: bytes | None,
        content_type: str | None,
        stream_ok: bool,
    ) -> Reply:
        headers = {"Accept": "application/json"}
        if content_type is not None and body is not None:
            headers["Content-Type"] = content_type
        url = URL(self.base + path_and_query, encoded=True)
        async with self.session.request(method, url, data=body, headers=headers) as response:
            try:
                data = await asyncio.wait_for(response.read(), 3 if stream_ok else None)
            except TimeoutError:
                if not stream_ok or response.status != 200:
                    raise
                return Reply(response.status, b"", response.content_type, streaming=True)
            return Reply(response.status, data, response.content_type)

    def get_json(self, path: str) -> Any:
        reply = self.request("GET", path)
        assert reply.status == 200, (path, reply)
        return reply.json()

    def post_json(self, path: str, obj: Any) -> Any:
        reply = self.request("POST", path, body=json.dumps(obj).encode())
        assert reply.status == 201, (path, reply)
        return reply.json()


@dataclass
class Fuzz:
    http: Http
    namespace: str
    target: str  # a ConfigMap that PUT and PATCH examples aim at

    def snapshot(self) -> dict[tuple[str, str, str], str]:
        """Every ConfigMap and Deployment in the cluster: what a client wrote of them (data,
        spec, labels). Not their resourceVersions: the controllers write Deployments' status
        and publish ``kube-root-ca.crt`` into new namespaces whenever they like."""
        found = {}
        for plural, path in (
            ("configmaps", "/api/v1/configmaps"),
            ("deployments", "/apis/apps/v1/deployments"),
        ):
            for item in self.http.get_json(path)["items"]:
                metadata = item["metadata"]
                if metadata["name"] == "kube-root-ca.crt":
                    continue
                written = [item.get("data"), item.get("spec"), metadata.get("labels")]
                key = (plural, metadata["namespace"], metadata["name"])
                found[key] = json.dumps(written, sort_keys=True)
        return found

    def collection(self, plural: str = "configmaps") -> str:
        if plural == "deployments":
            return f"/apis/apps/v1/namespaces/{self.namespace}/deployments"
        return f"/api/v1/namespaces/{self.namespace}/{plural}"

    def item(self, name: str | None = None) -> str:
        return f"{self.collection()}/{name or self.target}"

    def send(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Send, check the answer is sane, and that a refused request changed nothing."""
        before = self.snapshot() if method != "GET" else None
        try:
            reply = self.http.request(method, path, **kwargs)
        except TimeoutError:
            pytest.fail(f"{method} {path[:200]} got no answer in {REQUEST_SECONDS}s (a hang)")
        assert reply.status < 500, (method, path[:300], reply.status, reply.body[:2000])
        if reply.status >= 400:
            assert reply.content_type == "application/json", (
                f"{method} {path[:200]}: a {reply.status} that is not a Status: "
                f"{reply.content_type} {reply.body[:300]!r}"
            )
            status = reply.json()
            assert status["kind"] == "Status" and status["status"] == "Failure", status
            assert status["code"] == reply.status, status
        if before is not None and reply.status >= 400:
            after = self.snapshot()
            assert after == before, f"a refused {method} {path[:200]} changed stored data"
        return reply


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"fuzz": "yes"}},
        "data": data or {"key": "value"},
    }


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "nginx",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": "A", "value": "b"}],
                        }
                    ]
                },
            },
        },
    }


@pytest.fixture(scope="module")
def fuzz(cluster: Server) -> Iterator[Fuzz]:
    http = Http(cluster)
    suffix = uuid.uuid4().hex[:8]
    namespace = f"fuzz-{suffix}"
    http.post_json("/api/v1/namespaces", {"metadata": {"name": namespace}})
    state = Fuzz(http, namespace, target="target")
    http.post_json(state.collection(), configmap("target"))
    # Sentinels nobody addresses: they must come out exactly as they went in.
    sentinels = [
        http.post_json(state.collection(), configmap("sentinel", a="1")),
        http.post_json("/api/v1/namespaces/default/configmaps", configmap(f"sentinel-{suffix}")),
    ]
    try:
        yield state
        for sentinel in sentinels:
            metadata = sentinel["metadata"]
            now = http.get_json(
                f"/api/v1/namespaces/{metadata['namespace']}/configmaps/{metadata['name']}"
            )
            assert now == sentinel, "a sentinel object changed during the bad-input tests"
    finally:
        http.request("DELETE", f"/api/v1/namespaces/default/configmaps/sentinel-{suffix}")
        http.request("DELETE", f"/api/v1/namespaces/{namespace}")
        http.close()


# ---------------------------------------------------------------------------------- strategies

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
write_types = st.sampled_from(
    [
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ]
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += _paths(value, (*prefix, index))
    return found


def _replace(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(obj)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


@st.composite
def wrongly_typed(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid ConfigMap or Deployment with one field (anywhere) replaced by a random value."""
    plural = draw(st.sampled_from(["configmaps", "deployments"]))
    name = f"typed-{draw(st.integers(0, 5))}"
    template = configmap(name) if plural == "configmaps" else deployment(name)
    path = draw(st.sampled_from(_paths(template)))
    return plural, _replace(template, path, draw(json_values))


# ----------------------------------------------------------------------------- generated input


@settings(FUZZ, max_examples=25)
@given(
    body=json_values,
    method=st.sampled_from(["POST", "PUT", "PATCH"]),
    content_type=write_types,
)
def test_random_json_bodies(fuzz: Fuzz, body: Any, method: str, content_type: str) -> None:
    path = fuzz.collection() if method == "POST" else fuzz.item()
    fuzz.send(method, path, body=json.dumps(body).encode(), content_type=content_type)


@settings(FUZZ, max_examples=25)
@given(case=wrongly_typed(), method=st.sampled_from(["POST", "PUT", "PATCH"]))
def test_fields_of_the_wrong_type(
    fuzz: Fuzz, case: tuple[str, dict[str, Any]], method: str
) -> None:
    plural, body = case
    if method == "POST":
        path = fuzz.collection(plural)
        content_type = "application/json"
    else:
        if isinstance(body.get("metadata"), dict):
            body["metadata"]["name"] = fuzz.target if plural == "configmaps" else "absent"
        path = f"{fuzz.collection(plural)}/{fuzz.target if plural == 'configmaps' else 'absent'}"
        content_type = "application/json" if method == "PUT" else "application/merge-patch+json"
    reply = fuzz.send(method, path, body=json.dumps(body).encode(), content_type=content_type)
    if reply.status < 300:
        # Whatever was accepted reads back as JSON a client can parse again.
        created = reply.json()
        assert isinstance(created, dict) and created.get("metadata", {}).get("name")


@settings(FUZZ, max_examples=15)
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=40).map(lambda b: b'{"metadata":{"name":"' + b + b'"}}'),
        st.sampled_from(
            [
                b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\xff\xfe"}}',
                b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u"},"data":{"k":"\xc3\x28"}}',
                b"\xef\xbb\xbf{}",
                b"\x00\x00\x00{",
                b'{"a":"\\ud800"}',
                b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xff}\n",
            ]
        ),
    ),
    method=st.sampled_from(["POST", "PUT", "PATCH"]),
    content_type=write_types,
)
def test_bytes_that_are_not_utf8(fuzz: Fuzz, raw: bytes, method: str, content_type: str) -> None:
    path = fuzz.collection() if method == "POST" else fuzz.item()
    fuzz.send(method, path, body=raw, content_type=content_type)


@settings(FUZZ, max_examples=8)
@given(
    depth=st.sampled_from([50, 500, 999, 1001, 3000, 10_001, 100_000]),
    shape=st.sampled_from(["list", "object", "in-field", "yaml"]),
    method=st.sampled_from(["POST", "PATCH"]),
)
def test_deep_nesting(fuzz: Fuzz, depth: int, shape: str, method: str) -> None:
    content_type = "application/json" if method == "POST" else "application/merge-patch+json"
    if shape == "list":
        raw = b"[" * depth + b"]" * depth
        if method == "PATCH":  # a patch is an object; non-objects are another test's matter
            raw = b'{"x":' + raw + b"}"
    elif shape == "object":
        raw = b'{"a":' * depth + b"1" + b"}" * depth
    elif shape == "yaml":
        raw = b"a: " + b"[" * depth + b"]" * depth
        content_type = "application/yaml"
    else:
        name = f"deep-{depth}"
        raw = (
            b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"'
            + name.encode()
            + b'"},"unknown":'
            + b'{"a":' * depth
            + b"1"
            + b"}" * depth
            + b"}"
        )
    path = fuzz.collection() if method == "POST" else fuzz.item()
    fuzz.send(method, path, body=raw, content_type=content_type)


@settings(FUZZ, max_examples=20)
@given(
    segments=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "api",
                    "apis",
                    "v1",
                    "apps",
                    "namespaces",
                    "default",
                    "configmaps",
                    "deployments",
                    "status",
                    "scale",
                    "log",
                    "..",
                    ".",
                    "",
                    "%ff",
                    "%",
                    "%2F",
                    "%00",
                    "pods",
                    "x",
                    "x" * 300,
                ]
            ),
            st.text(max_size=20).map(lambda text: quote(text, safe="")),
        ),
        max_size=8,
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH"]),
)
def test_random_paths(fuzz: Fuzz, segments: list[str], method: str) -> None:
    path = "/" + "/".join(segments)
    # Mutations carry a body that is never a valid object, so nothing may be written.
    body = None if method == "GET" else b'{"kind": 5, "metadata": "nope"}'
    fuzz.send(method, path, body=body)


query_keys = st.sampled_from(
    [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "timeoutSeconds",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "pretty",
        "includeObject",
        "dryRun",
        "fieldValidation",
        "fieldManager",
        "propagationPolicy",
        "gracePeriodSeconds",
    ]
)
query_values = st.one_of(
    st.sampled_from(["%ff", "%", "%zz", "%c3%28"]),  # percent-encodings that decode badly
    st.sampled_from(
        [
            "",
            "true",
            "1",
            "True",
            "0",
            "-1",
            "99999999999999999999",
            "All",
            "Strict",
            "NotOlderThan",
            "Exact",
            "a=b",
            "a in (b",
            "metadata.name=x",
            "spec.nope=1",
            "!a",
            "a,,b",
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
        ]
    ).map(lambda text: quote(text, safe="")),
    st.text(max_size=30).map(lambda text: quote(text, safe="")),
)


@settings(FUZZ, max_examples=20)
@given(
    query=st.lists(st.tuples(query_keys, query_values), max_size=5),
    target=st.sampled_from(["list", "list-all", "get", "create"]),
)
def test_random_query_strings(fuzz: Fuzz, query: list[tuple[str, str]], target: str) -> None:
    # Watches without timeoutSeconds would stream for long: bound them.
    query_text = "&".join(f"{key}={value}" for key, value in [*query, ("timeoutSeconds", "1")])
    if target == "create":
        name = f"q-{uuid.uuid4().hex[:6]}"
        body = json.dumps(configmap(name)).encode()
        fuzz.send("POST", f"{fuzz.collection()}?{query_text}", body=body)
        return
    path = {
        "list": fuzz.collection(),
        "list-all": "/api/v1/configmaps",
        "get": fuzz.item(),
    }[target]
    fuzz.send("GET", f"{path}?{query_text}", stream_ok=True)


# ------------------------------------------------------------------------------ pinned answers


def _status(reply: Reply, code: int, reason: str) -> dict[str, Any]:
    assert reply.status == code, (reply.status, reply.body[:1000])
    assert reply.content_type == "application/json"
    status: dict[str, Any] = reply.json()
    assert status["kind"] == "Status" and status["apiVersion"] == "v1", status
    assert status["reason"] == reason and status["code"] == code, status
    return status


def test_body_over_3_mib_is_413(fuzz: Fuzz) -> None:
    big = configmap("too-big", blob="x" * (3 * MIB + 10))
    reply = fuzz.send("POST", fuzz.collection(), body=json.dumps(big).encode())
    _status(reply, 413, "RequestEntityTooLarge")
    # Also when the size is unknown up front (chunked upload).
    raw = json.dumps(big).encode()

    async def chunks() -> Any:
        for start in range(0, len(raw), 256 * 1024):
            yield raw[start : start + 256 * 1024]

    async def send() -> Reply:
        async with fuzz.http.session.post(
            URL(fuzz.http.base + fuzz.collection(), encoded=True),
            data=chunks(),
            headers={"Content-Type": "application/json"},
        ) as response:
            return Reply(response.status, await response.read(), response.content_type)

    _status(fuzz.http.run(send()), 413, "RequestEntityTooLarge")
    assert ("configmaps", fuzz.namespace, "too-big") not in fuzz.snapshot()


@pytest.mark.parametrize("size_mib", [1.2, 2.5])
def test_objects_over_upstream_limits_are_refused(fuzz: Fuzz, size_mib: float) -> None:
    """Under the request limit but too big to store: a ConfigMap's data is capped at 1 MiB
    (422 Invalid upstream), and nothing over 1.5 MiB is stored at all."""
    name = f"big-{str(size_mib).replace('.', '-')}"
    big = configmap(name, blob="y" * int(size_mib * MIB))
    reply = fuzz.send("POST", fuzz.collection(), body=json.dumps(big).encode())
    assert reply.status in (413, 422), (reply.status, reply.body[:500])
    if reply.status == 422:
        status = _status(reply, 422, "Invalid")
        # Kubernetes 1.32's wording (1.33 says "must have at most").
        assert "Too long: may not be more than 1048576 bytes" in status["message"], status


def test_patch_that_is_not_an_object_is_refused(fuzz: Fuzz) -> None:
    """A merge or strategic merge patch must be a JSON object; upstream answers 400 (or 422)."""
    for content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        for raw in (b"null", b"5", b"true", b'"text"', b"[]", b'[{"op":"add"}]'):
            reply = fuzz.send("PATCH", fuzz.item(), body=raw, content_type=content_type)
            if raw == b"null" and "strategic" in content_type:
                # Go decodes null into an empty strategic patch: upstream answers 200, no change
                assert reply.status == 200, reply
                continue
            assert reply.status in (400, 422), (content_type, raw, reply.status, reply.body[:300])
    # And a JSON patch must be a list of operations.
    for raw in (b"{}", b"5", b'[{"op":"nope","path":"/data"}]', b'[{"op":"add"}]'):
        reply = fuzz.send(
            "PATCH", fuzz.item(), body=raw, content_type="application/json-patch+json"
        )
        assert reply.status in (400, 422), (raw, reply.status, reply.body[:300])


def test_lone_surrogate_in_a_string(fuzz: Fuzz) -> None:
    """JSON may spell a lone UTF-16 surrogate; Go decodes it as U+FFFD. Never a 500."""
    raw = (
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"surrogate"},'
        b'"data":{"k":"\\ud800"}}'
    )
    reply = fuzz.send("POST", fuzz.collection(), body=raw)
    assert reply.status in (201, 400, 422), reply
    reply = fuzz.send(
        "PATCH",
        fuzz.item(),
        body=b'{"data":{"k":"\\udc00"}}',
        content_type="application/merge-patch+json",
    )
    assert reply.status in (200, 400, 422), reply


def test_malformed_json_is_400(fuzz: Fuzz) -> None:
    for raw in (b'{"apiVersion": "v1", "kind": "ConfigMap",', b"{'single': 'quotes'}", b"]"):
        reply = fuzz.send("POST", fuzz.collection(), body=raw)
        status = _status(reply, 400, "BadRequest")
        assert status["message"], status
    # JSON has no NaN or Infinity (Python's json module accepts them; Go's does not).
    for raw in (
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nan"},"x":NaN}',
        b'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"inf"},"spec":{"replicas":Infinity}}',
    ):
        reply = fuzz.send("POST", fuzz.collection(), body=raw)
        _status(reply, 400, "BadRequest")
    reply = fuzz.send(
        "PATCH", fuzz.item(), body=b'{"data":', content_type="application/merge-patch+json"
    )
    _status(reply, 400, "BadRequest")
    reply = fuzz.send("POST", fuzz.collection(), body=b"a: [b\n", content_type="application/yaml")
    _status(reply, 400, "BadRequest")
    reply = fuzz.send("POST", fuzz.collection(), body=b"")
    _status(reply, 400, "BadRequest")


def test_long_urls_get_api_answers(fuzz: Fuzz) -> None:
    """Go's server takes request lines up to 1 MiB; kubectl builds long ones from long label
    selectors (``-l 'app in (a,b,...)'``). A 16 KiB URL is answered like any other."""
    long_name = "n" * 16_000
    reply = fuzz.send("GET", f"{fuzz.collection()}/{long_name}")
    assert reply.status in (404, 400), reply
    assert reply.json()["kind"] == "Status"
    selector = quote("app in (" + ",".join(f"value-{i}" for i in range(1500)) + ")", safe="")
    reply = fuzz.send("GET", f"{fuzz.collection()}?labelSelector={selector}")
    assert reply.status == 200, (reply.status, reply.body[:300])
    assert reply.json()["items"] == []


def test_unknown_resource_or_group_is_404(fuzz: Fuzz) -> None:
    for path in (
        "/%0A",  # a newline in the path
        "/api/v1/namespaces/default/configmaps%0A",
        "/api/v1/namespaces/default/widgets",
        "/api/v1/widgets",
        "/apis/nope.example.com/v1/things",
        "/apis/apps/v7/deployments",
        "/api/v2",
        "/apis/apps/v1/namespaces/default/deployments/x/nosuchsub",
        "/api/v1/namespaces/default/configmaps/a/b/c/d",
        "/totally/elsewhere",
    ):
        reply = fuzz.send("GET", path)
        status = _status(reply, 404, "NotFound")
        assert status["message"] == "the server could not find the requested resource", status


def test_wrong_kind_or_version_in_body_is_400(fuzz: Fuzz) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-kind"}}
    _status(
        fuzz.send("POST", fuzz.collection(), body=json.dumps(secret).encode()), 400, "BadRequest"
    )
    wrong_group = configmap("wrong-group")
    wrong_group["apiVersion"] = "apps/v1"
    _status(
        fuzz.send("POST", fuzz.collection(), body=json.dumps(wrong_group).encode()),
        400,
        "BadRequest",
    )
    deploy = deployment("deploy-as-cm")
    _status(
        fuzz.send(
            "PUT",
            fuzz.item(),
            body=json.dumps({**deploy, "metadata": {"name": fuzz.target}}).encode(),
        ),
        400,
        "BadRequest",
    )
    not_an_object = fuzz.send("POST", fuzz.collection(), body=b'["a list"]')
    _status(not_an_object, 400, "BadRequest")


def test_mismatched_namespace_or_name_is_400(fuzz: Fuzz) -> None:
    elsewhere = configmap("elsewhere")
    elsewhere["metadata"]["namespace"] = "default"
    status = _status(
        fuzz.send("POST", fuzz.collection(), body=json.dumps(elsewhere).encode()),
        400,
        "BadRequest",
    )
    assert (
        "the namespace of the provided object does not match the namespace sent on the request"
        in status["message"]
    )
    renamed = configmap("other-name")
    status = _status(
        fuzz.send("PUT", fuzz.item(), body=json.dumps(renamed).encode()), 400, "BadRequest"
    )
    assert "does not match the name on the URL" in status["message"], status


def test_unsupported_media_type_and_method(fuzz: Fuzz) -> None:
    body = json.dumps(configmap("plain")).encode()
    _status(
        fuzz.send("POST", fuzz.collection(), body=body, content_type="text/plain"),
        415,
        "UnsupportedMediaType",
    )
    _status(
        fuzz.send("PATCH", fuzz.item(), body=b"{}", content_type="application/json"),
        415,
        "UnsupportedMediaType",
    )
    _status(fuzz.send("POST", fuzz.item(), body=body), 405, "MethodNotAllowed")


def test_yaml_body_is_accepted(fuzz: Fuzz) -> None:
    raw = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n"
    reply = fuzz.send("POST", fuzz.collection(), body=raw, content_type="application/yaml")
    assert reply.status == 201, reply
    assert reply.json()["data"] == {"k": "v"}
