"""busybox's ``hostname`` and ``nslookup`` for the busybox image: the names a pod has and sees.

One program, two applets chosen by the name it is run as (busybox is a multi-call binary in
the same way). ``hostname`` prints the pod's name (``$HOSTNAME``), ``-i`` its address
(``$POD_IP``), ``-s`` the part before the first dot. ``nslookup NAME`` asks the cluster DNS
the kubelet named (``$MINIKUBE_PY_DNS``) with the pod's search path, through the start-up
hook's resolver, and prints busybox's layout with the name that answered (``nslookup
kubernetes.default`` → ``kubernetes.default.svc.cluster.local``); names the cluster does not
know go to the host's resolver. An unknown name prints ``** server can't find NAME:
NXDOMAIN`` and exits 1, which is what the init-container tutorials loop on (``until nslookup
myservice; do sleep 2; done``).
"""

from __future__ import annotations

import os
import socket
import sys


def hostname(argv: list[str]) -> int:
    name = os.environ.get("HOSTNAME") or socket.gethostname()
    if "-i" in argv:
        print(os.environ.get("POD_IP") or "127.0.0.1")
    elif "-s" in argv:
        print(name.split(".")[0])
    elif [word for word in argv if not word.startswith("-")]:
        print("hostname: sethostname: Operation not permitted", file=sys.stderr)
        return 1
    else:
        print(name)
    return 0


def nameserver() -> tuple[str, int]:
    """The cluster DNS the kubelet named (``$MINIKUBE_PY_DNS``, its real port), else the first
    nameserver of the container's resolv.conf, else the host's."""
    cluster = os.environ.get("MINIKUBE_PY_DNS", "")
    host, _, port = cluster.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    root = os.environ.get("MINIKUBE_PY_ROOT") or "/"
    for path in (os.path.join(root, "etc/resolv.conf"), "/etc/resolv.conf"):
        try:
            with open(path) as conf:
                for line in conf:
                    words = line.split()
                    if len(words) >= 2 and words[0] == "nameserver":
                        return words[1], 53
        except OSError:
            continue
    return "127.0.0.1", 53


def cluster_answer(name: str) -> tuple[str, list[str]] | None:
    """The cluster DNS's answer (the start-up hook's resolver), None if it has none."""
    if not os.environ.get("MINIKUBE_PY_DNS"):
        return None
    try:
        # beside the start-up hook, on every container's PYTHONPATH
        import _minikube_py_dns  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        found: tuple[str, list[str]] | None = _minikube_py_dns.resolve(name)
        return found
    except (OSError, ValueError):  # no cluster DNS to ask, or not a DNS name
        return None


def host_answer(name: str) -> list[str] | None:
    try:
        answers = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    return list(dict.fromkeys(str(address[0]) for *_, address in answers))


def nslookup(argv: list[str]) -> int:
    names = [word for word in argv if not word.startswith("-")]
    if not names:
        print("Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]", file=sys.stderr)
        return 1
    name = names[0]
    server, port = nameserver()
    if len(names) > 1 and names[1] != server:
        server, port = names[1], 53
    print(f"Server:\t\t{server}\nAddress:\t{server}:{port}\n")
    found = cluster_answer(name)
    if found is not None and not found[1]:  # a CNAME out of the cluster (ExternalName)
        print(f"{name}\tcanonical name = {found[0]}")
        name = found[0]
    addresses = found[1] if found is not None and found[1] else host_answer(name)
    if not addresses:
        print(f"** server can't find {name}: NXDOMAIN\n")
        return 1
    print(f"Name:\t{found[0] if found is not None else name}")
    for address in addresses:
        print(f"Address: {address}")
    print()
    return 0


def main(argv: list[str]) -> int:
    applet = os.path.basename(argv[0])
    if applet == "nslookup":
        return nslookup(argv[1:])
    return hostname(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
