"""busybox's ``hostname`` and ``nslookup`` for the busybox image: the names a pod has and sees.

One program, two applets chosen by the name it is run as (busybox is a multi-call binary in
the same way). ``hostname`` prints the pod's name (``$HOSTNAME``), ``-i`` its address
(``$POD_IP``), ``-s`` the part before the first dot. ``nslookup NAME`` resolves through the
interpreter (so through the cluster-name seam of the start-up hook) and prints busybox's
layout; an unknown name prints ``** server can't find NAME: NXDOMAIN`` and exits 1, which is
what the init-container tutorials loop on (``until nslookup myservice; do sleep 2; done``).
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


def nameserver() -> str:
    """The first nameserver of the container's resolv.conf, else the host's."""
    root = os.environ.get("MINIKUBE_PY_ROOT") or "/"
    for path in (os.path.join(root, "etc/resolv.conf"), "/etc/resolv.conf"):
        try:
            with open(path) as conf:
                for line in conf:
                    words = line.split()
                    if len(words) >= 2 and words[0] == "nameserver":
                        return words[1]
        except OSError:
            continue
    return "127.0.0.1"


def nslookup(argv: list[str]) -> int:
    names = [word for word in argv if not word.startswith("-")]
    if not names:
        print("Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]", file=sys.stderr)
        return 1
    name = names[0]
    server = names[1] if len(names) > 1 else nameserver()
    print(f"Server:\t\t{server}\nAddress:\t{server}:53\n")
    try:
        answers = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        print(f"** server can't find {name}: NXDOMAIN\n")
        return 1
    print(f"Name:\t{name}")
    seen: list[str] = []
    for *_, address in answers:
        if address[0] not in seen:
            seen.append(str(address[0]))
            print(f"Address: {address[0]}")
    print()
    return 0


def main(argv: list[str]) -> int:
    applet = os.path.basename(argv[0])
    if applet == "nslookup":
        return nslookup(argv[1:])
    return hostname(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
