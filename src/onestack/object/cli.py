"""``onestack ring``: show and change the object ring; run one replicator or auditor pass.

The ring file lives in ``<state_dir>/object``.  ``add-device`` and
``remove-device`` change the device list; nothing moves until
``rebalance``, after which the replicator (in the running server, or
``onestack ring replicate``) moves the data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from onestack.config import Settings, load_settings


def _settings(state_dir: Path | None, config: Path | None) -> Settings:
    try:
        return load_settings(state_dir=state_dir, config_file=config)
    except Exception as exc:
        raise click.ClickException(f"invalid settings: {exc}") from None


def _root(state_dir: Path | None, config: Path | None) -> Path:
    return _settings(state_dir, config).state_dir / "object"


def _disk_store(state_dir: Path | None, config: Path | None) -> Any:
    """The ring's disk devices (the passes here cannot reach a server's memory backend)."""
    from onestack.object.backends.disk import DiskDevices
    from onestack.object.store import ObjectStore

    settings = _settings(state_dir, config)
    if settings.object.storage_backend != "disk":
        raise click.ClickException(
            "object.storage_backend is 'memory': the replicas live in the running server, "
            "which runs its own passes"
        )
    root = settings.state_dir / "object"
    return ObjectStore(root, DiskDevices(root))


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--state-dir", type=click.Path(path_type=Path), default=None, help="State directory."
    )(fn)
    return click.option(
        "--config", type=click.Path(path_type=Path, exists=True), default=None, help="TOML file."
    )(fn)


@click.group()
def ring() -> None:
    """The object storage ring: devices, zones, partitions."""


@ring.command("show")
@_options
def show(state_dir: Path | None, config: Path | None) -> None:
    """Print the ring's devices and how many partition replicas each holds."""
    from onestack.object.ring import RING_FILE, Ring, RingError

    root = _root(state_dir, config)
    try:
        current = Ring.load(root / RING_FILE)
    except RingError as exc:
        raise click.ClickException(str(exc)) from None
    counts: dict[int, int] = {}
    for row in current.assignment:
        for dev_id in row:
            counts[dev_id] = counts.get(dev_id, 0) + 1
    click.echo(
        f"ring version {current.version}: {current.partitions} partitions "
        f"(part power {current.part_power}), {current.replicas} replicas, "
        f"{len(current.devices)} devices"
    )
    click.echo(f"{'id':>3} {'name':<12} {'zone':>4} {'weight':>7} {'parts':>6}  path")
    for dev in current.devices:
        path = root / "devices" / dev.name
        state = "" if path.is_dir() else "  (missing)"
        click.echo(
            f"{dev.id:>3} {dev.name:<12} {dev.zone:>4} {dev.weight:>7.2f} "
            f"{counts.get(dev.id, 0):>6}  {path}{state}"
        )


@ring.command("add-device")
@_options
@click.argument("name")
@click.option("--zone", type=int, required=True, help="Failure zone of the device.")
@click.option("--weight", type=float, default=1.0, show_default=True)
def add_device(
    state_dir: Path | None, config: Path | None, name: str, zone: int, weight: float
) -> None:
    """Add a device directory (created under <state_dir>/object/devices)."""
    from onestack.object.ring import RING_FILE, Ring, RingError

    root = _root(state_dir, config)
    try:
        current = Ring.load(root / RING_FILE)
        dev = current.add_device(name, zone, weight)
    except RingError as exc:
        raise click.ClickException(str(exc)) from None
    (root / "devices" / name).mkdir(parents=True, exist_ok=True)
    current.save(root / RING_FILE)
    click.echo(f"added device {dev.id} {name} (zone {zone}, weight {weight}); now rebalance")


@ring.command("remove-device")
@_options
@click.argument("name")
def remove_device(state_dir: Path | None, config: Path | None, name: str) -> None:
    """Remove a device from the ring (its data moves away after rebalance)."""
    from onestack.object.ring import RING_FILE, Ring, RingError

    root = _root(state_dir, config)
    try:
        current = Ring.load(root / RING_FILE)
        current.remove_device(name)
    except RingError as exc:
        raise click.ClickException(str(exc)) from None
    current.save(root / RING_FILE)
    click.echo(f"removed device {name}; now rebalance")


@ring.command("rebalance")
@_options
def rebalance(state_dir: Path | None, config: Path | None) -> None:
    """Reassign partitions to the current devices, moving as few as possible."""
    from onestack.object.ring import RING_FILE, Ring, RingError

    root = _root(state_dir, config)
    try:
        current = Ring.load(root / RING_FILE)
        moved = current.rebalance()
    except RingError as exc:
        raise click.ClickException(str(exc)) from None
    current.save(root / RING_FILE)
    click.echo(
        f"rebalanced: {moved} partition replicas assigned anew (ring version {current.version})"
    )


@ring.command("replicate")
@_options
def replicate(state_dir: Path | None, config: Path | None) -> None:
    """Run one replication pass now."""
    from onestack.object.replicator import replicate_once

    stats = replicate_once(_disk_store(state_dir, config))
    click.echo(
        f"replicated: {stats.objects} objects seen, {stats.pushed} files pushed, "
        f"{stats.removed_handoffs} handoff copies removed, {stats.errors} errors"
    )


@ring.command("audit")
@_options
def audit(state_dir: Path | None, config: Path | None) -> None:
    """Run one auditor pass now (quarantines replicas whose bytes are damaged)."""
    from onestack.object.auditor import audit_once

    stats = audit_once(_disk_store(state_dir, config))
    click.echo(f"audited {stats.checked} replicas; quarantined {len(stats.quarantined)}")
    for item in stats.quarantined:
        click.echo(f"  quarantined {item}")
