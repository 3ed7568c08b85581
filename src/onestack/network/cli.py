"""``onestack doctor``: find (and with --fix remove) data-plane leftovers.

A leftover is a namespace, host device, DHCP server or state directory that
this onestack created (its registry in the state directory lists them) and
that no database record accounts for: what a crash or a killed process can
leave behind.  Namespaces of another onestack on the same host are never
touched.
"""

from __future__ import annotations

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
        if ns.startswith(names.NET_NS) and ns[len(names.NET_NS) :] not in desired.networks:
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
    """Report data-plane leftovers (namespaces, devices, DHCP state); --fix removes them."""
    from onestack.config import load_settings
    from onestack.network.drivers.linux import commands

    settings = load_settings(state_dir=state_dir, config_file=config, db_url=db_url)
    if not Path(settings.database_url.removeprefix("sqlite:///")).exists() and (
        settings.database_url.startswith("sqlite")
    ):
        raise click.ClickException(f"no onestack database in {settings.state_dir}")
    forwarding = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    if forwarding == "1":
        click.echo("note: IP forwarding is on in the host namespace (onestack never turns it on)")
    if commands.missing_tools():
        click.echo(f"data plane: unavailable here ({commands.missing_tools()})")
    leftovers = find_leftovers(settings.database_url, settings.state_dir)
    if not leftovers:
        click.echo("no leftovers")
        return
    for item in leftovers:
        action = "removed" if fix else "leftover"
        if fix:
            remove(item, settings.state_dir)
        click.echo(f"{action}: {item.kind} {item.name} ({item.why})")
    if not fix:
        raise SystemExit(1)
