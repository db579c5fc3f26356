"""`kubectl cp`, `kubectl attach` and `kubectl run -i --rm` against pods of the real process
runtime, on the session's cluster.

`kubectl cp` is tar through exec: into a pod it runs ``tar -xmf - -C <dir>`` there, out of one
``tar cf - <path>``, and refuses an archive whose member names do not start with the path it
asked for (``tmp/x`` for ``/tmp/x``). The busybox image's tar is the host's, started with the
container's root as the place absolute paths resolve under, and it names members as a real
container's tar would. `kubectl attach -i` streams stdin into the container's own stdin (the pod
says ``stdin: true``); with ``stdinOnce`` the container sees end-of-file when the attachment
closes it, as upstream. `kubectl run -i --rm` attaches, or falls back to the logs of a
container that already finished, then deletes the pod.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, apply, busybox, eventually, pod


def _sleeper(kubectl: Kubectl, name: str) -> None:
    apply(kubectl, busybox(name, "sleep 600"))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)


def test_cp_a_file_into_a_pod_and_back(kubectl: Kubectl, unique: Any, tmp_path: Path) -> None:
    name = unique("cp")
    _sleeper(kubectl, name)
    try:
        local = tmp_path / "notes.txt"
        local.write_text("copied in\nand out\n")
        kubectl.out("cp", str(local), f"{name}:/tmp/x")
        assert kubectl.out("exec", name, "--", "cat", "/tmp/x") == "copied in\nand out\n"
        back = tmp_path / "back.txt"
        kubectl.out("cp", f"{name}:/tmp/x", str(back))
        assert back.read_text() == "copied in\nand out\n"
        # a path relative to the container's working directory (busybox's is its root)
        kubectl.out("cp", str(local), f"{name}:relative.txt")
        assert kubectl.out("exec", name, "--", "cat", "/relative.txt") == "copied in\nand out\n"
    finally:
        kubectl.out("delete", "pod", name, "--wait=true")


def test_cp_a_directory_tree_both_ways(kubectl: Kubectl, unique: Any, tmp_path: Path) -> None:
    name = unique("cpdir")
    _sleeper(kubectl, name)
    try:
        tree = tmp_path / "tree"
        (tree / "sub").mkdir(parents=True)
        (tree / "a.txt").write_text("a\n")
        (tree / "sub" / "b.txt").write_text("b\n")
        kubectl.out("cp", str(tree), f"{name}:/tmp/tree")
        assert kubectl.out("exec", name, "--", "cat", "/tmp/tree/sub/b.txt") == "b\n"
        back = tmp_path / "back"
        kubectl.out("cp", f"{name}:/tmp/tree", str(back))
        found = sorted(str(p.relative_to(back)) for p in back.rglob("*"))
        assert found == ["a.txt", "sub", "sub/b.txt"]
        assert (back / "sub" / "b.txt").read_text() == "b\n"
    finally:
        kubectl.out("delete", "pod", name, "--wait=true")


def test_cp_from_a_missing_path_reports_tar_s_error(
    kubectl: Kubectl, unique: Any, tmp_path: Path
) -> None:
    name = unique("cpmiss")
    _sleeper(kubectl, name)
    try:
        # kubectl prints the remote tar's stderr on its stdout, but it exits once the (empty)
        # archive has ended, and tar's stdout and stderr are two pipes: the error's words may
        # arrive after the archive's end and go unprinted, upstream (containerd copies the two
        # pipes separately) as here. So the words must show in one of a few attempts.
        words = "/tmp/nothing-here: Cannot stat: No such file or directory"
        attempts = []
        for _ in range(5):
            done = kubectl.run(
                "cp", f"{name}:/tmp/nothing-here", str(tmp_path / "out"), check=False
            )
            attempts.append(done)
            if words in done.stdout + done.stderr:
                break
        else:
            raise AssertionError(f"tar's error never printed: {attempts}")
        assert not (tmp_path / "out").exists()
    finally:
        kubectl.out("delete", "pod", name, "--wait=true")


def test_attach_streams_stdin_to_the_container(kubectl: Kubectl, unique: Any) -> None:
    name = unique("attach")
    manifest = busybox(
        name,
        'while read line; do echo "got: $line"; done; echo "stdin closed"',
        container={"stdin": True, "stdinOnce": True},
        restartPolicy="Never",
    )
    apply(kubectl, manifest)
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    try:
        done = kubectl.run("attach", "-i", name, stdin="one\ntwo\n", timeout=60)
        assert done.returncode == 0, done.stderr
        assert "got: one\ngot: two\n" in done.stdout, done.stdout
        # stdinOnce: closing the attachment's stdin closed the container's; the loop ended
        eventually(lambda: pod(kubectl, name)["status"]["phase"] == "Succeeded")
        assert kubectl.out("logs", name) == "got: one\ngot: two\nstdin closed\n"
    finally:
        kubectl.out("delete", "pod", name, "--wait=true")


def test_attach_without_stdin_shows_the_output_from_now_on(kubectl: Kubectl, unique: Any) -> None:
    name = unique("watch")
    script = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"
    apply(kubectl, busybox(name, script))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    attached = kubectl.popen("attach", name)
    try:
        assert attached.stdout is not None
        lines = [attached.stdout.readline() for _ in range(3)]
        assert all(line.startswith("tick ") for line in lines), lines
        numbers = [int(line.split()[1]) for line in lines]
        assert numbers == list(range(numbers[0], numbers[0] + 3))  # in order, none lost
    finally:
        attached.kill()
        attached.wait()
        kubectl.out("delete", "pod", name, "--wait=true")


def test_run_interactive_rm_prints_the_output_and_deletes_the_pod(
    kubectl: Kubectl, unique: Any
) -> None:
    name = unique("once")
    done = kubectl.run(
        "run",
        "-i",
        "--rm",
        "--restart=Never",
        "--image=busybox",
        name,
        "--",
        "echo",
        "hello",
        check=False,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "hello", done.stdout
    assert f'pod "{name}" deleted' in done.stdout
    assert "NotFound" in kubectl.fails("get", "pod", name)
