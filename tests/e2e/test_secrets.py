"""Secrets and ConfigMaps with the real kubectl: made, typed, refused, and never stored in clear.

``kubectl create secret`` in its three forms (generic from literals and files, tls from a
certificate and key, docker-registry) stores what upstream stores; the typed Secrets
(basic-auth, ssh-auth, tls) without their required keys are refused with upstream's words;
``stringData`` is merged into ``data``; bad input (non-base64 data, invalid keys, a ConfigMap
over 1 MiB, a change to an immutable object) is refused and nothing is stored, which a ``get``
afterwards checks. Then encryption at rest: a cluster of its own on the default SQLite file is
stopped and the database's raw bytes searched for a Secret's value (absent) and a ConfigMap's
(present: the check can fail); the cluster's log and Events must not carry the value either.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, Server, make_kubectl, serving


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def absent(kubectl: Kubectl, kind: str, name: str) -> bool:
    done = kubectl.run("get", kind, name, check=False)
    return done.returncode != 0 and "NotFound" in done.stderr


def manifest(kind: str, name: str, **fields: Any) -> str:
    return json.dumps({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **fields})


# --------------------------------------------------------------------------- kubectl create


def test_create_secret_generic_from_literals_and_files(kubectl: Kubectl, unique: Any) -> None:
    name = unique("generic")
    password = kubectl.write("password.txt", "s3cr3t-from-file\n")
    kubectl.out(
        "create", "secret", "generic", name,
        "--from-literal=username=admin", f"--from-file={password}",
        "--from-file=renamed.txt=" + str(password),
    )  # fmt: skip
    secret = kubectl.json("get", "secret", name)
    assert secret["type"] == "Opaque"
    assert decoded(secret) == {
        "username": "admin",
        "password.txt": "s3cr3t-from-file\n",
        "renamed.txt": "s3cr3t-from-file\n",
    }
    line = kubectl.out("get", "secret", name, "--no-headers").split()
    assert line[:3] == [name, "Opaque", "3"]
    kubectl.out("delete", "secret", name)


def test_create_secret_tls_and_docker_registry(
    kubectl: Kubectl, cluster: Server, unique: Any
) -> None:
    cert, key = cluster.client_cert, cluster.client_key  # any PEM certificate and its key
    tls, registry = unique("tls"), unique("regcred")
    kubectl.out("create", "secret", "tls", tls, f"--cert={cert}", f"--key={key}")
    secret = kubectl.json("get", "secret", tls)
    assert secret["type"] == "kubernetes.io/tls"
    values = decoded(secret)
    assert values["tls.crt"] == cert.read_text()
    assert values["tls.key"] == key.read_text()

    kubectl.out(
        "create", "secret", "docker-registry", registry, "--docker-server=registry.example",
        "--docker-username=jane", "--docker-password=hunter2", "--docker-email=j@example.org",
    )  # fmt: skip
    secret = kubectl.json("get", "secret", registry)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(decoded(secret)[".dockerconfigjson"])
    entry = config["auths"]["registry.example"]
    assert (entry["username"], entry["password"]) == ("jane", "hunter2")
    assert base64.b64decode(entry["auth"]).decode() == "jane:hunter2"
    kubectl.out("delete", "secret", tls, registry)


@pytest.mark.parametrize(
    ("secret_type", "message"),
    [
        ("kubernetes.io/basic-auth", "* data[username]: Required value\n* data[password]"),
        ("kubernetes.io/ssh-auth", "data[ssh-privatekey]: Required value"),
        ("kubernetes.io/tls", "data[tls.crt]: Required value"),
        ("kubernetes.io/dockerconfigjson", "data[.dockerconfigjson]: Required value"),
    ],
)
def test_typed_secrets_without_their_keys_are_refused(
    kubectl: Kubectl, unique: Any, secret_type: str, message: str
) -> None:
    name = unique("typed")
    text = manifest("Secret", name, type=secret_type, data={"other": b64("x")})
    error = kubectl.fails("create", "-f", "-", stdin=text)
    assert f'Secret "{name}" is invalid' in error
    assert message in error
    assert absent(kubectl, "secret", name)


def test_typed_secrets_with_their_keys_and_string_data_are_stored(
    kubectl: Kubectl, unique: Any
) -> None:
    basic, ssh = unique("basic"), unique("ssh")
    text = manifest(
        "Secret",
        basic,
        type="kubernetes.io/basic-auth",
        data={"username": b64("from-data"), "extra": b64("kept")},
        stringData={"username": "from-string-data", "password": "t0p"},
    )
    kubectl.out("create", "-f", "-", stdin=text)
    secret = kubectl.json("get", "secret", basic)
    # stringData wins over data for the same key, and is not stored itself
    assert decoded(secret) == {"username": "from-string-data", "password": "t0p", "extra": "kept"}
    assert "stringData" not in secret
    kubectl.out(
        "create", "-f", "-",
        stdin=manifest("Secret", ssh, type="kubernetes.io/ssh-auth",
                       stringData={"ssh-privatekey": "-----BEGIN KEY-----"}),
    )  # fmt: skip
    assert decoded(kubectl.json("get", "secret", ssh)) == {"ssh-privatekey": "-----BEGIN KEY-----"}
    kubectl.out("delete", "secret", basic, ssh)


# ------------------------------------------------------------------------------- bad input


def test_a_secret_with_non_base64_data_is_refused(kubectl: Kubectl, unique: Any) -> None:
    name = unique("notb64")
    error = kubectl.fails(
        "create", "-f", "-", stdin=manifest("Secret", name, data={"key": "not base64!"})
    )
    assert "illegal base64 data at input byte" in error
    assert absent(kubectl, "secret", name)


@pytest.mark.parametrize("kind", ["Secret", "ConfigMap"])
def test_invalid_keys_are_refused(kubectl: Kubectl, unique: Any, kind: str) -> None:
    name = unique("badkey")
    value = b64("v") if kind == "Secret" else "v"
    for key in ("a/b", "..", "sp ace"):
        error = kubectl.fails("create", "-f", "-", stdin=manifest(kind, name, data={key: value}))
        assert f'{kind} "{name}" is invalid' in error
        assert f'data[{key}]: Invalid value: "{key}"' in error
        assert absent(kubectl, kind.lower(), name)


def test_an_oversized_configmap_is_refused(kubectl: Kubectl, unique: Any) -> None:
    name = unique("huge")
    big = kubectl.write("big.txt", "x" * (1024 * 1024 + 1))
    error = kubectl.fails("create", "configmap", name, f"--from-file={big}")
    assert f'ConfigMap "{name}" is invalid' in error
    # 1.32's wording (field.TooLong); releases before 1.32 said "must have at most"
    assert "Too long: may not be more than 1048576 bytes" in error
    assert absent(kubectl, "configmap", name)
    # exactly 1 MiB of data is still fine (the limit counts keys and values)
    fits = kubectl.write("fits", "x" * (1024 * 1024 - len("fits")))
    kubectl.out("create", "configmap", name, f"--from-file={fits}")
    kubectl.out("delete", "configmap", name)


@pytest.mark.parametrize("kind", ["Secret", "ConfigMap"])
def test_immutable_objects_refuse_changes(kubectl: Kubectl, unique: Any, kind: str) -> None:
    name = unique("frozen")
    value = b64("one") if kind == "Secret" else "one"
    kubectl.out("create", "-f", "-", stdin=manifest(kind, name, data={"k": value}, immutable=True))
    changed = b64("two") if kind == "Secret" else "two"
    error = kubectl.fails("patch", kind.lower(), name, "-p", json.dumps({"data": {"k": changed}}))
    assert "data: Forbidden: field is immutable when `immutable` is set" in error
    error = kubectl.fails("patch", kind.lower(), name, "-p", '{"immutable": false}')
    assert "immutable: Forbidden: field is immutable when `immutable` is set" in error
    stored = kubectl.json("get", kind.lower(), name)
    assert stored["data"] == {"k": value} and stored["immutable"] is True
    kubectl.out("label", kind.lower(), name, "metadata=changes-are-fine")
    kubectl.out("delete", kind.lower(), name)


# ----------------------------------------------------------------------- encryption at rest


def kubectl_for(server: Server, base: Path) -> Kubectl:
    base.mkdir()
    return make_kubectl(server.kubeconfig, base)


def test_secret_values_are_not_stored_or_logged_in_clear(tmp_path: Path) -> None:
    secret_value = "pl41ntext-secret-7f3c9e"
    config_value = "pl41ntext-config-7f3c9e"
    state = tmp_path / "state"
    with serving(state, store=None) as server:  # the default: a SQLite file in the state dir
        kubectl = kubectl_for(server, tmp_path / "kubectl")
        kubectl.out("create", "secret", "generic", "db-pass", f"--from-literal=pw={secret_value}")
        kubectl.out("create", "configmap", "plain", f"--from-literal=v={config_value}")
        # an update and a stringData write go through the same sealing
        kubectl.out(
            "patch", "secret", "db-pass", "-p",
            json.dumps({"stringData": {"again": secret_value + "-2"}}),
        )  # fmt: skip
        assert decoded(kubectl.json("get", "secret", "db-pass"))["again"] == secret_value + "-2"
        events = kubectl.out("get", "events", "-A", "-o", "json")
        assert secret_value not in events
    assert server.exit_code == 0 and not server.error_lines()[0]

    database = b"".join(path.read_bytes() for path in state.glob("state.db*") if path.is_file())
    assert database, f"no database file in {sorted(p.name for p in state.iterdir())}"
    assert config_value.encode() in database  # the search would find a value stored in clear
    for needle in (secret_value, b64(secret_value), b64(secret_value + "-2")):
        assert needle.encode() not in database, f"{needle!r} is stored in clear"
    assert b"k8s:enc:aesgcm:v1:local:" in database
    log = (state / "cluster.log").read_bytes() + server.output.read_bytes()
    for needle in (secret_value, b64(secret_value)):
        assert needle.encode() not in log, f"{needle!r} is in the cluster's log"

    # the data is readable again by the next server on the same directory (same key file)
    with serving(state, store=None) as server:
        kubectl = kubectl_for(server, tmp_path / "kubectl-again")
        assert decoded(kubectl.json("get", "secret", "db-pass"))["pw"] == secret_value


def test_the_state_directory_key_file_is_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with serving(state) as server:
        assert server.alive()
    key = state / "encryption.key"
    assert key.stat().st_mode & 0o077 == 0, oct(key.stat().st_mode)
    assert len(base64.b64decode(key.read_bytes().strip())) == 32
