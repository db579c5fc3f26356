"""Ingress, IngressClass and NetworkPolicy validation: upstream 1.32's paths and messages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikube_py.api.errors import ApiError
from minikube_py.client import INGRESSES, Client
from tests.api.test_validation import problems
from tests.clusters import in_process_client

NET = "networking.k8s.io"
# the docs' networking examples, as the conformance corpus keeps them
EXAMPLES = Path(__file__).parents[1] / "e2e/corpus/website-examples/service/networking"
SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
WILDCARD = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which "
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
    "character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
WEB = {"service": {"name": "web", "port": {"number": 80}}}


def ingress(*paths: dict[str, Any], host: str = "shop.example", **spec: Any) -> dict[str, Any]:
    """An Ingress with one rule for ``host`` whose paths default to one valid ``/`` Prefix."""
    entries = list(paths) or [{"path": "/", "pathType": "Prefix", "backend": WEB}]
    rule = {"host": host, "http": {"paths": entries}} if host else {"http": {"paths": entries}}
    return {"metadata": {"name": "shop"}, "spec": {"rules": [rule], **spec}}


def path(value: str | None, kind: str | None = "Prefix", backend: Any = WEB) -> dict[str, Any]:
    entry: dict[str, Any] = {"backend": backend}
    if value is not None:
        entry["path"] = value
    if kind is not None:
        entry["pathType"] = kind
    return entry


def check(obj: dict[str, Any], kind: str = "Ingress", old: Any = None) -> list[str]:
    return problems(kind, obj, NET, old)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_the_website_examples_are_valid(name: str) -> None:
    assert EXAMPLES.is_dir()
    for doc in yaml.safe_load_all((EXAMPLES / name).read_text()):
        if doc and doc.get("apiVersion") == f"{NET}/v1":
            assert check(doc, doc["kind"]) == [], name


def test_hosts_are_dns_names_or_wildcards_never_ip_addresses() -> None:
    assert check(ingress(host="*.shop.example")) == []
    assert check(ingress(host="Bad_Host.example")) == [
        f'spec.rules[0].host: Invalid value: "Bad_Host.example": {SUBDOMAIN}'
    ]
    assert check(ingress(host="*.*.example")) == [
        f'spec.rules[0].host: Invalid value: "*.*.example": {WILDCARD}'
    ]
    for address in ("10.0.0.1", "010.0.0.1"):  # Go's sloppy parser takes leading zeros
        assert check(ingress(host=address)) == [
            f'spec.rules[0].host: Invalid value: "{address}": must be a DNS name, not an IP address'
        ]
    assert check(ingress(host="::1")) == [
        'spec.rules[0].host: Invalid value: "::1": must be a DNS name, not an IP address',
        f'spec.rules[0].host: Invalid value: "::1": {SUBDOMAIN}',
    ]


def test_exact_and_prefix_paths_are_clean_absolute_paths() -> None:
    at = "spec.rules[0].http.paths[0].path"
    assert check(ingress(path("no-slash"))) == [
        f'{at}: Invalid value: "no-slash": must be an absolute path'
    ]
    assert check(ingress(path("/a//b/./c/../d%2fe%2F", "Exact"))) == [
        f"{at}: Invalid value: \"/a//b/./c/../d%2fe%2F\": must not contain '{part}'"
        for part in ("//", "/./", "/../", "%2f", "%2F")
    ]
    assert check(ingress(path("/a/.."))) == [
        f"{at}: Invalid value: \"/a/..\": cannot end with '/..'"
    ]
    assert check(ingress(path("/a/."))) == [f"{at}: Invalid value: \"/a/.\": cannot end with '/.'"]
    assert check(ingress(path(None, "Exact"))) == [
        f'{at}: Invalid value: "": must be an absolute path'
    ]


def test_path_types_are_required_and_known() -> None:
    at = "spec.rules[0].http.paths[0]"
    # no pathType: upstream stops there, the backend is not looked at
    assert check(ingress(path("/", None, backend={}))) == [
        f"{at}.pathType: Required value: pathType must be specified"
    ]
    assert check(ingress(path("/", "Regex"))) == [
        f'{at}.pathType: Unsupported value: "Regex": supported values: '
        '"Exact", "ImplementationSpecific", "Prefix"'
    ]
    assert check(ingress(path(None, "ImplementationSpecific"))) == []
    assert check(ingress(path("/.*", "ImplementationSpecific"))) == []
    assert check(ingress(path("x", "ImplementationSpecific"))) == [
        f'{at}.path: Invalid value: "x": must be an absolute path'
    ]
    rule_without_paths = {"metadata": {"name": "i"}, "spec": {"rules": [{"http": {}}]}}
    assert check(rule_without_paths) == ["spec.rules[0].http.paths: Required value"]


def test_backends_name_exactly_one_target() -> None:
    at = "spec.rules[0].http.paths[0].backend"
    both_ports = {"service": {"name": "web", "port": {"name": "http", "number": 80}}}
    cases: list[tuple[Any, list[str]]] = [
        ({}, [f'{at}: Invalid value: "": resource or service backend is required']),
        (
            {**WEB, "resource": {"kind": "Bucket", "name": "b"}},
            [f'{at}: Invalid value: "": cannot set both resource and service backends'],
        ),
        (both_ports, [f'{at}: Invalid value: "": cannot set both port name & port number']),
        (
            {"service": {"name": "web", "port": {}}},
            [f"{at}: Required value: port name or number is required"],
        ),
        (
            {"service": {"name": "1web", "port": {"number": 70000}}},
            [
                f'{at}.service.name: Invalid value: "1web": {DNS1035}',
                f"{at}.service.port.number: Invalid value: 70000: "
                "must be between 1 and 65535, inclusive",
            ],
        ),
        (
            {"service": {"port": {"name": "web--http"}}},
            [
                f"{at}.service.name: Required value",
                f'{at}.service.port.name: Invalid value: "web--http": '
                "must not contain consecutive hyphens",
            ],
        ),
        (
            {"resource": {"apiGroup": "Storage", "kind": "a/b"}},
            [
                f'{at}.resource.apiGroup: Invalid value: "Storage": {SUBDOMAIN}',
                f"{at}.resource.kind: Invalid value: \"a/b\": may not contain '/'",
                f"{at}.resource.name: Required value",
            ],
        ),
        ({"resource": {"apiGroup": "k8s.example", "kind": "Bucket", "name": "b"}}, []),
    ]
    for backend, expected in cases:
        assert check(ingress(path("/", backend=backend))) == expected, backend


def test_a_default_backend_or_rules_are_required() -> None:
    message = "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules`"
    assert check({"metadata": {"name": "i"}, "spec": {}}) == [f"spec: {message} must be specified"]
    assert check({"metadata": {"name": "i"}, "spec": {"rules": []}}) == [
        "spec: Invalid value: []networking.IngressRule{}: either `defaultBackend` or `rules` "
        "must be specified"
    ]
    assert check({"metadata": {"name": "i"}, "spec": {"defaultBackend": WEB}}) == []
    assert check({"metadata": {"name": "i"}, "spec": {"defaultBackend": {"service": {}}}}) == [
        "spec.defaultBackend.service.name: Required value",
        "spec.defaultBackend: Required value: port name or number is required",
    ]


def test_class_name_tls_and_the_deprecated_annotation() -> None:
    bad = ingress(
        ingressClassName="Nginx",
        tls=[{"hosts": ["ok.example", "*.ok.example", "No.example"], "secretName": "Cert"}],
    )
    assert check(bad) == [
        f'spec.tls[0].hosts[2]: Invalid value: "No.example": {SUBDOMAIN}',
        f'spec.tls[0].secretName: Invalid value: "Cert": {SUBDOMAIN}',
        f'spec.ingressClassName: Invalid value: "Nginx": {SUBDOMAIN}',
    ]
    annotated = ingress(ingressClassName="nginx")
    annotated["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx"}
    assert check(annotated) == []  # the same class twice is fine since 1.27
    annotated["metadata"]["annotations"]["kubernetes.io/ingress.class"] = "traefik"
    assert check(annotated) == [
        'annotations.kubernetes.io/ingress.class: Invalid value: "traefik": '
        "must match `ingressClassName` when both are specified"
    ]
    old = ingress(ingressClassName="nginx")
    assert check(annotated, old=old) == []  # only creation is refused


def test_updates_keep_tolerating_what_was_stored_before() -> None:
    stored = ingress(tls=[{"secretName": "Legacy_Cert"}])
    assert check(copy.deepcopy(stored), old=stored) == []
    assert check(copy.deepcopy(stored)) != []
    wildcard = ingress(path("relative"), host="*.shop.example")
    assert check(copy.deepcopy(wildcard), old=wildcard) == []
    assert check(copy.deepcopy(wildcard)) != []


def test_status_addresses_are_checked_when_the_status_changes() -> None:
    old = ingress()
    new = copy.deepcopy(old)
    new["status"] = {"loadBalancer": {"ingress": [{"ip": "nope"}, {"hostname": "10.1.2.3"}]}}
    assert check(new, old=old) == [
        'status.loadBalancer.ingress[0].ip: Invalid value: "nope": '
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        'status.loadBalancer.ingress[1].hostname: Invalid value: "10.1.2.3": '
        "must be a DNS name, not an IP address",
    ]


def ingress_class(controller: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "nginx"}, "spec": {"controller": controller, **spec}}


def test_ingress_class_controller_is_a_domain_prefixed_path_for_life() -> None:
    assert check(ingress_class("k8s.io/ingress-nginx"), "IngressClass") == []
    assert check(ingress_class(""), "IngressClass") == ["spec.controller: Required value"]
    assert check(ingress_class("nginx"), "IngressClass") == [
        'spec.controller: Invalid value: "nginx": must be a domain-prefixed path '
        '(such as "acme.io/foo")'
    ]
    assert check(ingress_class("Acme.io/a b"), "IngressClass") == [
        f'spec.controller: Invalid value: "Acme.io": {SUBDOMAIN}',
        'spec.controller: Invalid value: "a b": Invalid path (regex used for validation is '
        "'[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
    ]
    assert check(ingress_class("acme.io/" + "x" * 243), "IngressClass") == [
        "spec.controller: Too long: may not be more than 250 bytes"
    ]
    old = ingress_class("k8s.io/ingress-nginx")
    assert check(ingress_class("example.com/other"), "IngressClass", old=old) == [
        'spec.controller: Invalid value: "example.com/other": field is immutable'
    ]


def test_ingress_class_parameters() -> None:
    def params(**fields: Any) -> list[str]:
        fields = {"apiGroup": "k8s.example.com", "kind": "Params", "name": "p", **fields}
        fields = {key: value for key, value in fields.items() if value is not None}
        return check(ingress_class("k8s.io/nginx", parameters=fields), "IngressClass")

    at = "spec.parameters"
    assert params() == []  # no scope: the v1 default makes it Cluster
    assert params(scope="Namespace", namespace="ops") == []
    assert params(kind=None, name="..") == [
        f"{at}.kind: Required value",
        f"{at}.name: Invalid value: \"..\": may not be '..'",
    ]
    assert params(scope="Global") == [
        f'{at}.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace"'
    ]
    assert params(scope="Namespace") == [
        f"{at}.namespace: Required value: `parameters.scope` is set to 'Namespace'"
    ]
    assert params(scope="Cluster", namespace="ops") == [
        f"{at}.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"
    ]


def policy(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "deny"}, "spec": {"podSelector": {}, **spec}}


def test_network_policy_ports() -> None:
    at = "spec.ingress[0].ports"
    ports = [
        {"protocol": "ICMP", "port": 80},
        {"port": 8000, "endPort": 7000},
        {"port": "http", "endPort": 9000},
        {"endPort": 9000},
        {"port": "Not_A_Name"},
        {"port": 32000, "endPort": 32768},
    ]
    assert check(policy(ingress=[{"ports": ports}]), "NetworkPolicy") == [
        f'{at}[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        f"{at}[1].endPort: Invalid value: 7000: must be greater than or equal to `port`",
        f"{at}[2].endPort: Invalid value: 9000: may not be specified when `port` is non-numeric",
        f"{at}[3].endPort: Invalid value: 9000: may not be specified when `port` is not specified",
        f'{at}[4].port: Invalid value: "Not_A_Name": must contain only alpha-numeric '
        "characters (a-z, 0-9), and hyphens (-)",
    ]


def test_network_policy_peers_and_types() -> None:
    peers = [
        {},
        {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}},
        {"ipBlock": {"cidr": "10.0.0.0/33"}},
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "11.0.0.0/16", "10.0.0.0/8"]}},
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["bad", "10.0.0.0/7"]}},
        {"namespaceSelector": {"matchLabels": {"team": "-x"}}, "podSelector": {}},
        # Go's sloppy parser takes leading zeros, but a prefix is a bit count, not a netmask
        {"ipBlock": {"cidr": "010.0.0.0/8", "except": ["10.0.0.0/255.255.0.0"]}},
    ]
    at, subset = "spec.egress[0].to", "must be a strict subset of `cidr`"
    assert check(policy(egress=[{"to": peers}]), "NetworkPolicy") == [
        f"{at}[0]: Required value: must specify a peer",
        f"{at}[1]: Forbidden: may not specify both ipBlock and another peer",
        f'{at}[2].ipBlock.cidr: Invalid value: "10.0.0.0/33": not a valid CIDR',
        f'{at}[3].ipBlock.except[1]: Invalid value: "11.0.0.0/16": {subset}',
        f'{at}[3].ipBlock.except[2]: Invalid value: "10.0.0.0/8": {subset}',
        f'{at}[4].ipBlock.except[0]: Invalid value: "bad": not a valid CIDR',
        f'{at}[5].namespaceSelector.matchLabels: Invalid value: "-x": a valid label must be an '
        "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
        "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        f'{at}[6].ipBlock.except[0]: Invalid value: "10.0.0.0/255.255.0.0": not a valid CIDR',
    ]
    assert check(policy(policyTypes=["Ingress", "Sideways"]), "NetworkPolicy") == [
        'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'
    ]
    assert check(policy(policyTypes=["Ingress", "Egress", "Ingress"]), "NetworkPolicy") == [
        'spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", '
        '"Ingress"}: may not specify more than two policyTypes'
    ]


async def test_the_api_server_refuses_a_bad_ingress_with_kubectls_words() -> None:
    client: Client
    async with in_process_client() as client:
        with pytest.raises(ApiError) as refused:
            await client.create(INGRESSES, "default", {**ingress(host="Bad_Host.example")})
        assert refused.value.code == 422
        assert refused.value.message.startswith(
            'Ingress.networking.k8s.io "shop" is invalid: spec.rules[0].host: Invalid value: '
            '"Bad_Host.example": a lowercase RFC 1123 subdomain'
        )
        made = await client.create(INGRESSES, "default", ingress())
        assert made["spec"]["rules"][0]["host"] == "shop.example"


def test_network_policy_and_ingress_class_defaults() -> None:
    from minikube_py.api.catalog import builtin_registry
    from minikube_py.api.defaults import apply_defaults

    registry = builtin_registry()
    policy = {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}
    apply_defaults(registry.get("networking.k8s.io", "v1", "networkpolicies"), policy)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    only_ingress = {"spec": {"podSelector": {}}}
    apply_defaults(registry.get("networking.k8s.io", "v1", "networkpolicies"), only_ingress)
    assert only_ingress["spec"]["policyTypes"] == ["Ingress"]
    ingress_class = {"spec": {"controller": "x.io/c", "parameters": {"kind": "K", "name": "n"}}}
    apply_defaults(registry.get("networking.k8s.io", "v1", "ingressclasses"), ingress_class)
    assert ingress_class["spec"]["parameters"]["scope"] == "Cluster"
