"""``onestack snapshot``: save, restore, list and delete whole-cloud snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onestack.config import Settings, load_settings
from onestack.snapshots.manager import Outcome, SnapshotError, SnapshotManager


def _manager(state_dir: Path | None, config: Path | None) -> SnapshotManager:
    try:
        settings: Settings = load_settings(state_dir=state_dir, config_file=config)
    except Exception as exc:  # pydantic's ValidationError and TOML errors
        raise click.ClickException(f"invalid settings: {exc}") from None
    return SnapshotManager(settings)


def _options(fn: Any) -> Any:
    fn = click.option("--state-dir", type=click.Path(path_type=Path), default=None,
                      help="State directory of the cloud.")(fn)  # fmt: skip
    fn = click.option("--config", type=click.Path(path_type=Path, exists=True), default=None,
                      help="TOML settings file.")(fn)  # fmt: skip
    return fn


def _summary(outcome: Outcome) -> str:
    c = outcome.counts
    steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in outcome.phases.items())
    return (
        f"{c.files} files, {c.bytes / 1024**2:.1f} MiB: {c.linked} hard-linked, "
        f"{c.reflinked} reflinked, {c.copied} copied, {c.unchanged} unchanged "
        f"(volume pool: {outcome.pool_filesystem})"
        f"\n  steps: {steps}"
    )


@click.group("snapshot")
def snapshot() -> None:
    """Whole-cloud snapshots: the database and every byte, copy-on-write where possible."""


@snapshot.command("save")
@click.argument("name")
@_options
def save(name: str, state_dir: Path | None, config: Path | None) -> None:
    """Save the cloud as snapshot NAME (a running cloud's writes wait for the copy)."""
    manager = _manager(state_dir, config)
    try:
        outcome = manager.save(name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    how = "writes of the running cloud paused" if outcome.running else "cloud stopped"
    click.echo(f"saved snapshot {name} in {outcome.seconds:.2f}s ({how}): {_summary(outcome)}")


@snapshot.command("restore")
@click.argument("name")
@_options
def restore(name: str, state_dir: Path | None, config: Path | None) -> None:
    """Put the stopped cloud back as snapshot NAME saved it; `onestack up` then starts
    the instances that were running and rebuilds the networks."""
    manager = _manager(state_dir, config)
    try:
        outcome = manager.restore(name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored snapshot {name} in {outcome.seconds:.2f}s: {_summary(outcome)}")
    if outcome.instances_removed:
        click.echo(f"  removed {outcome.instances_removed} instance(s) that ran on this host")
    if outcome.instances_to_resume:
        click.echo(
            f"  {outcome.instances_to_resume} instance(s) return to their recorded power "
            "state at the next `onestack up`"
        )


@snapshot.command("list")
@_options
def list_(state_dir: Path | None, config: Path | None) -> None:
    """List the snapshots of the cloud."""
    manager = _manager(state_dir, config)
    found = manager.snapshots()
    if not found:
        click.echo(f"no snapshots in {manager.root}")
        return
    click.echo(f"{'name':<24} {'created (UTC)':<26} {'files':>7} {'MiB':>9} {'save s':>7}")
    for info in found:
        files = int(info.counts.get("files", 0))
        size = int(info.counts.get("bytes", 0)) / 1024**2
        click.echo(
            f"{info.name:<24} {info.created_at:<26} {files:>7} {size:>9.1f} {info.seconds:>7.2f}"
        )


@snapshot.command("delete")
@click.argument("name")
@_options
def delete(name: str, state_dir: Path | None, config: Path | None) -> None:
    """Delete snapshot NAME."""
    manager = _manager(state_dir, config)
    try:
        manager.delete(name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deleted snapshot {name}")
