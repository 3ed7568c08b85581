"""``onestack doctor``: find (and with --fix remove) data-plane leftovers.

A leftover is a namespace, host device, DHCP server or state directory that
this onestack created (its registry lists them) and that no database record
accounts for: what a crash or a killed process can leave behind.  Beyond its
own state directory, doctor reads the host-wide owner records
(``onestack.common.owners``): everything an onestack whose state directory is
gone left on the host (namespaces, links, processes, mounts, loop devices,
cgroups: ``onestack.lifecycle``) is a leftover too.  A running cloud's
resources are never touched, nor those of a stopped cloud whose state
directory still exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click


@dataclass(frozen=True)
class Leftover:
    kind: str  # namespace, device, directory
    name: str
    why: str


def find_leftovers(db_url: str, state_dir: Path) -> list[Leftover]:
    from sqlalchemy import select

    from onestack.common.db import Database
    from onestack.network import models
    from onestack.network.desired import read_desired
    from onestack.network.drivers.linux import commands, names
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    db = Database(db_url)
    try:
        desired = read_desired(db)
        with db.reader() as session:
            devices = set(session.scalars(select(models.Port.device_id)))
    finally:
        db.dispose()
    found: list[Leftover] = []
    owned = Registry(registry_dir(state_dir)).names()
    for ns in sorted(commands.namespaces() & owned):
        # a simulated host's bridge namespaces carry its scope: the id is at the end
        if ns.startswith(names.NET_NS) and names.record_id(ns) not in desired.networks:
            found.append(Leftover("namespace", ns, "no such network"))
        elif ns.startswith(names.DHCP_NS):
            net = desired.networks.get(ns[len(names.DHCP_NS) :])
            if net is None or not net.has_dhcp:
                found.append(Leftover("namespace", ns, "no network with DHCP"))
        elif ns.startswith(names.ROUTER_NS) and ns[len(names.ROUTER_NS) :] not in desired.routers:
            found.append(Leftover("namespace", ns, "no such router"))
        elif ns.startswith(names.VM_NS) and ns[len(names.VM_NS) :] not in devices:
            found.append(Leftover("namespace", ns, "no port of that instance"))
    legs = {names.host_leg(n.id) for n in desired.networks.values() if n.host_leg}
    for link in sorted(commands.links() & owned):
        if link.startswith(names.HOST_LEG) and link not in legs:
            found.append(Leftover("device", link, "no external network with a host address"))
    dhcp_dir = state_dir / "network" / "dhcp"
    if dhcp_dir.is_dir():
        for entry in sorted(dhcp_dir.iterdir()):
            if entry.name not in desired.networks:
                found.append(Leftover("directory", str(entry), "no such network"))
    return found


def remove(leftover: Leftover, state_dir: Path) -> None:
    from onestack.network.drivers.linux import commands
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    if leftover.kind == "namespace":
        for pid in commands.pids_in(leftover.name):
            subprocess.run(["kill", str(pid)], check=False)
        commands.delete_netns(leftover.name)
    elif leftover.kind == "device":
        commands.ip("link", "del", leftover.name, check=False)
    else:
        shutil.rmtree(leftover.name, ignore_errors=True)
    if leftover.kind != "directory":
        Registry(registry_dir(state_dir)).discard(leftover.name)


@click.command()
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="State directory.")
@click.option(
    "--config", type=click.Path(path_type=Path, exists=True), default=None, help="TOML settings."
)
@click.option("--db-url", default=None, help="SQLAlchemy URL (default: SQLite in the state dir).")
@click.option("--fix", is_flag=True, help="Remove what no database record accounts for.")
def doctor(state_dir: Path | None, config: Path | None, db_url: str | None, fix: bool) -> None:
    """Report data-plane leftovers (namespaces, devices, DHCP state) of this cloud, and
    everything onestacks whose state directory is gone left on the host; --fix removes them."""
    from onestack.config import load_settings
    from onestack.network.drivers.linux import commands

    settings = load_settings(state_dir=state_dir, config_file=config, db_url=db_url)
    forwarding = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    if forwarding == "1":
        click.echo("note: IP forwarding is on in the host namespace (onestack never turns it on)")
    if commands.missing_tools():
        click.echo(f"data plane: unavailable here ({commands.missing_tools()})")
    found = 0
    sqlite = settings.database_url.startswith("sqlite")
    if sqlite and not Path(settings.database_url.removeprefix("sqlite:///")).exists():
        click.echo(f"no onestack database in {settings.state_dir}: the host-wide check only")
    else:
        leftovers = find_leftovers(settings.database_url, settings.state_dir)
        for item in leftovers:
            if fix:
                remove(item, settings.state_dir)
            click.echo(f"{'removed' if fix else 'leftover'}: {item.kind} {item.name} ({item.why})")
        found += len(leftovers)
    if os.geteuid() == 0:  # other clouds' processes, mounts and devices: root's to see
        found += _host_wide(settings.state_dir, fix)
    if not found:
        click.echo("no leftovers")
    elif not fix:
        raise SystemExit(1)


def _host_wide(state_dir: Path, fix: bool) -> int:
    """What other onestacks on this host left (their owner records); returns how many
    leftovers were found.  A running cloud's resources are never touched, nor a stopped
    one's whose state directory exists (`onestack up` takes them back)."""
    from onestack import lifecycle
    from onestack.common import owners

    found = 0
    own = owners.key_of(state_dir)
    for item in lifecycle.host_owners():
        where = item.owner.state_dir
        if item.status == "running":
            if item.owner.key != own:
                click.echo(f"running: onestack in {where} (pid {item.owner.pid}): not touched")
            continue
        if item.trace.empty():
            if fix or item.status == "orphaned":
                owners.forget(item.owner)  # a record of nothing
            continue
        if item.status == "stopped":
            instances = ", ".join(item.trace.instances) or "none"
            click.echo(
                f"stopped: onestack in {where} keeps {item.trace.summary()} on the host "
                f"(instances: {instances}); `onestack up --state-dir {where}` takes them "
                f"back, `onestack down --purge --state-dir {where}` removes them"
            )
            continue
        why = f"of the onestack in {where}, whose state directory is gone"
        for line in item.trace.lines():
            click.echo(f"{'removed' if fix else 'leftover'}: {line} ({why})")
        found += len(item.trace.lines())
        if fix:
            problems = lifecycle.remove(item.trace)
            for problem in problems:
                click.echo(f"warning: not removed: {problem}", err=True)
            if not problems:
                owners.forget(item.owner)
    _unowned(state_dir)
    return found


def _unowned(state_dir: Path) -> None:
    """Say how many namespaces and host links carry onestack's names but no owner record
    lists (an onestack older than the records made them, or one whose records are
    elsewhere): they cannot be told apart from a running cloud's, so they stay."""
    from onestack.common import owners
    from onestack.network.drivers.linux import commands, names
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    recorded: set[str] = set()
    for owner in owners.all_owners():
        recorded |= owner.names("network")
    recorded |= Registry(registry_dir(state_dir)).names() if state_dir.is_dir() else set()
    spaces = {n for n in commands.namespaces() if n.startswith(names.NAMESPACE_PREFIXES)}
    links = {n for n in commands.links() if n.startswith(names.ROOT_DEVICE_PREFIXES)}
    spaces, links = spaces - recorded, links - recorded
    if spaces or links:
        click.echo(
            f"note: {len(spaces)} namespace(s) and {len(links)} host link(s) with onestack's "
            "names are recorded by no onestack on this host (made by an onestack without "
            "owner records, or by one whose records are elsewhere); doctor leaves them: "
            + ", ".join(sorted(links) + sorted(spaces)[:10])
            + (" ..." if len(spaces) > 10 else "")
        )
