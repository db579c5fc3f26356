"""``minikube-py delete [--all] [--purge]``: a profile removed without a trace.

As ``minikube delete``: the profile's cluster is stopped if it runs, its cluster, user and
context leave the kubeconfig (no context is current afterwards if its was), and its
directory — store, certificates, pods, images, logs — is removed. ``--all`` does so for every
profile, ``--purge`` then removes the whole ``~/.minikube_py`` as well.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from minikube_py.apiserver.kubeconfig import remove_from_kubeconfig
from minikube_py.cli.background import stop_background
from minikube_py.cli.common import (
    EX_USAGE,
    fail,
    home,
    profile_directory,
    profile_option,
    read_json,
    step,
)
from minikube_py.cli.profiles import DRIVER, profile_names, set_active_profile


def _kubeconfig_of(directory: Path) -> Path | None:
    recorded = read_json(directory / "serving.json").get("kubeconfig")
    return Path(recorded) if recorded else None


def delete_profile(profile: str) -> None:
    """Stop the profile's cluster, drop its kubeconfig entries, remove its directory."""
    directory = profile_directory(profile)
    if not directory.exists():
        step(f'"{profile}" profile does not exist, trying anyways.')
    else:
        step(f'Deleting "{profile}" in {DRIVER} ...')
        stop_background(directory)
    try:
        remove_from_kubeconfig(profile, _kubeconfig_of(directory))
    except (OSError, ValueError) as error:
        step(f"The kubeconfig was left as it is: {error}")
    if directory.exists():
        step(f"Removing {directory} ...")
        shutil.rmtree(directory, ignore_errors=True)
    if read_json(home() / "config.json").get("profile") == profile:
        set_active_profile(None)
    step(f'Removed all traces of the "{profile}" cluster.')


@click.command()
@profile_option
@click.option("--all", "everything", is_flag=True, help="Delete all profiles.")
@click.option("--purge", is_flag=True, help="Delete the ~/.minikube_py folder as well.")
def delete(profile: str, everything: bool, purge: bool) -> None:
    """Deletes a local Kubernetes cluster: stops it and removes its state."""
    names = profile_names()
    if purge and not everything and len([n for n in names if n != profile]) > 0:
        click.echo("* Multiple minikube-py profiles were found - ", err=True)
        for name in names:
            click.echo(f"*     - {name}", err=True)
        fail(["Usage: minikube-py delete --all --purge"], EX_USAGE)
    if everything:
        for name in names:
            delete_profile(name)
        step("Successfully deleted all profiles")
    else:
        delete_profile(profile)
    if purge:
        shutil.rmtree(home(), ignore_errors=True)
        step(f"Successfully purged minikube-py directory located at - [{home()}]")
