"""The routing table: hosts, path types, upstream's precedence, default backends, rewrites."""

from __future__ import annotations

from typing import Any

from minikube_py.net.ingress_rules import Backend, build_table

Object = dict[str, Any]


def ingress(
    name: str,
    rules: list[Object] | None = None,
    *,
    created: str = "2026-01-01T00:00:00Z",
    default: str | None = None,
    annotations: dict[str, str] | None = None,
    tls: list[Object] | None = None,
) -> Object:
    spec: Object = {"rules": rules or []}
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    if tls:
        spec["tls"] = tls
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "creationTimestamp": created,
            "annotations": annotations or {},
        },
        "spec": spec,
    }


def rule(host: str | None, *paths: tuple[str, str, str]) -> Object:
    entries = [
        {
            "path": path,
            "pathType": kind,
            "backend": {"service": {"name": service, "port": {"number": 80}}},
        }
        for path, kind, service in paths
    ]
    made: Object = {"http": {"paths": entries}}
    if host is not None:
        made["host"] = host
    return made


def service_for(table: Any, host: str, path: str) -> str | None:
    backend = table.route(host, path).backend
    return backend.service if backend else None


def test_prefix_matches_element_wise_and_exact_only_itself() -> None:
    table = build_table(
        [ingress("a", [rule("foo.com", ("/foo", "Prefix", "p"), ("/bar", "Exact", "e"))])]
    )
    assert service_for(table, "foo.com", "/foo") == "p"
    assert service_for(table, "foo.com", "/foo/") == "p"
    assert service_for(table, "foo.com", "/foo/bar?x=1") == "p"
    assert service_for(table, "foo.com", "/foobar") is None
    assert service_for(table, "foo.com", "/bar") == "e"
    assert service_for(table, "foo.com", "/bar/") is None
    # a trailing slash on a Prefix path is ignored, and ImplementationSpecific is a Prefix
    table = build_table(
        [
            ingress(
                "a",
                [rule("x", ("/aaa/bbb/", "Prefix", "s"), ("/c", "ImplementationSpecific", "i"))],
            )
        ]
    )
    assert service_for(table, "x", "/aaa/bbb") == "s"
    assert service_for(table, "x", "/aaa/bbbxyz") is None
    assert service_for(table, "x", "/c/d") == "i"


def test_longest_path_first_and_exact_before_prefix() -> None:
    table = build_table(
        [
            ingress(
                "a",
                [
                    rule(
                        "h",
                        ("/", "Prefix", "root"),
                        ("/api", "Prefix", "api"),
                        ("/api/v1", "Prefix", "v1"),
                        ("/api", "Exact", "exact"),
                    )
                ],
            )
        ]
    )
    assert service_for(table, "h", "/api") == "exact"
    assert service_for(table, "h", "/api/v2") == "api"
    assert service_for(table, "h", "/api/v1/pods") == "v1"
    assert service_for(table, "h", "/other") == "root"


def test_exact_host_before_wildcard_and_wildcard_is_one_label() -> None:
    table = build_table(
        [
            ingress("a", [rule("*.foo.com", ("/", "Prefix", "wild"))]),
            ingress("b", [rule("bar.foo.com", ("/", "Prefix", "bar"))]),
        ]
    )
    assert service_for(table, "bar.foo.com", "/") == "bar"
    assert service_for(table, "BAZ.foo.com", "/") == "wild"  # hosts are case-insensitive
    assert service_for(table, "foo.com", "/") is None
    assert service_for(table, "a.baz.foo.com", "/") is None


def test_older_ingress_wins_a_conflict_and_the_newer_is_reported() -> None:
    table = build_table(
        [
            ingress("new", [rule("h", ("/", "Prefix", "new"))], created="2026-02-01T00:00:00Z"),
            ingress("old", [rule("h", ("/", "Prefix", "old"))], created="2026-01-01T00:00:00Z"),
        ]
    )
    assert service_for(table, "h", "/") == "old"
    assert any("default/new" in problem for problem in table.problems)


def test_default_backends() -> None:
    controller_default = Backend("ingress-nginx", "fallback", 80)
    table = build_table(
        [
            ingress("catch", default="catch-all"),  # no rules: the catch-all server's default
            ingress("site", [rule("h", ("/app", "Prefix", "app"))], default="site-default"),
            ingress("plain", [rule("p", ("/app", "Prefix", "app"))]),
            ingress("hostless", [rule(None, ("/any", "Prefix", "any"))]),
        ],
        default_backend=controller_default,
    )
    assert service_for(table, "h", "/app") == "app"
    assert service_for(table, "h", "/else") == "site-default"
    assert service_for(table, "p", "/else") == "fallback"
    assert service_for(table, "unknown", "/any/x") == "any"  # rules without a host
    assert service_for(table, "unknown", "/x") == "catch-all"
    assert service_for(build_table([]), "unknown", "/") is None  # ingress-nginx's 404


def test_invalid_hosts_and_paths_are_skipped_with_a_reason() -> None:
    table = build_table(
        [
            ingress(
                "bad",
                [rule("Not A Host!", ("/", "Prefix", "x")), rule("ok", ("nope", "Prefix", "y"))],
            )
        ]
    )
    assert service_for(table, "ok", "/") is None
    assert len(table.problems) == 2


def test_rewrite_target_with_capture_groups() -> None:
    annotations = {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}
    table = build_table(
        [
            ingress(
                "r",
                [rule("h", ("/something(/|$)(.*)", "ImplementationSpecific", "s"))],
                annotations=annotations,
            )
        ]
    )
    route = table.route("h", "/something/new?a=b")
    assert route.backend is not None and route.backend.service == "s"
    assert route.target == "/new?a=b"
    assert table.route("h", "/something").target == "/"
    assert table.route("h", "/SOMETHING/x").target == "/x"  # regex paths ignore case


def test_tls_hosts_and_ssl_redirect() -> None:
    table = build_table(
        [
            ingress(
                "t",
                [rule("secure.example", ("/", "Prefix", "s"))],
                tls=[{"hosts": ["secure.example", "*.wild.example"], "secretName": "cert"}],
            ),
            ingress(
                "n",
                [rule("lax.example", ("/", "Prefix", "l"))],
                tls=[{"hosts": ["lax.example"]}],
                annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"},
            ),
        ]
    )
    assert table.tls_for("secure.example") == ("default", "cert")
    assert table.tls_for("a.wild.example") == ("default", "cert")
    assert table.tls_for("lax.example") == ("default", "")
    assert table.tls_for("other.example") is None
    assert table.route("secure.example", "/").redirect_https
    assert not table.route("lax.example", "/").redirect_https
