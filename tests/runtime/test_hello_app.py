"""The hello-app program as a real process on loopback: answers, names its pod, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from minikube_py.runtime.images.builtin import hello_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hello_app_answers_with_its_hostname() -> None:
    port = free_port()
    env = {**os.environ, "POD_IP": "127.0.0.1", "PORT": str(port), "HOSTNAME": "hello-7d9f-abc"}
    process = subprocess.Popen([sys.executable, hello_app.__file__], env=env)
    try:
        body = ""
        for _ in range(500):  # bounded: about 10 s until the server answers
            assert process.poll() is None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    body = reply.read().decode()
                break
            except OSError:
                time.sleep(0.02)
        assert body == "Hello, world!\nVersion: 1.0.0\nHostname: hello-7d9f-abc\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
