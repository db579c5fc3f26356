"""``minikube-py kubectl -- ARGS`` and ``minikube-py completion bash|zsh|fish``.

``kubectl`` runs the real kubectl on PATH with ``--context <profile>``, as ``minikube kubectl
--`` runs the kubectl it downloads, so ``alias kubectl="minikube-py kubectl --"`` works;
without a kubectl on PATH (or with ``--builtin``) the built-in Python kubectl
(``minikube_py.kubectl``) answers, with the everyday subset of kubectl's commands.
``completion`` prints the script that makes a shell complete minikube-py's commands and
options (click's shell completion; the script is sourced once, e.g. from ``~/.bashrc``).
"""

from __future__ import annotations

import shutil
import subprocess

import click
from click.shell_completion import get_completion_class

from minikube_py.cli.common import profile_option
from minikube_py.kubectl import main as builtin_kubectl


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@profile_option
@click.option("--builtin", is_flag=True, help="Use the built-in kubectl even when one is on PATH.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kubectl(profile: str, builtin: bool, args: tuple[str, ...]) -> None:
    """Run kubectl against the profile's cluster: kubectl -- get pods."""
    binary = None if builtin else shutil.which("kubectl")
    if binary is None:
        raise click.exceptions.Exit(builtin_kubectl(["--context", profile, *args]))
    try:
        done = subprocess.run([binary, "--context", profile, *args], check=False)
    except KeyboardInterrupt:  # kubectl got the Ctrl-C as well (one process group)
        raise click.exceptions.Exit(130) from None
    raise click.exceptions.Exit(done.returncode)  # kubectl's exit code is ours


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(context: click.Context, shell: str) -> None:
    """Generate command completion for a shell (bash, zsh or fish).

    Load it with: source <(minikube-py completion bash)
    """
    root = context.find_root().command
    make = get_completion_class(shell)
    if make is None:  # the Choice above allows only the shells click knows
        raise click.ClickException(f"no completion for {shell}")
    click.echo(make(root, {}, "minikube-py", "_MINIKUBE_PY_COMPLETE").source())
