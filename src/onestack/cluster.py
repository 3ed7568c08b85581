"""Scale-out on one machine: a controller and N simulated hosts (``onestack cluster``).

Each simulated host is a ``onestack host join`` process with a state directory
and a name of its own.  Its control connections (database, bus, APIs) leave
from the root namespace, where PostgreSQL, RabbitMQ and the APIs listen on
loopback; its data plane lives in namespaces of its own:

- ``osul-<id>``: the underlay, a bridge ``br0`` joining the hosts (no uplink,
  nothing routed: the machine's own interfaces never see it);
- ``oshost-<id>-<n>``: host ``n``'s own namespace, with its underlay address
  ``100.64.0.<10+n>/24`` on ``ul0`` (its VXLAN tunnel endpoint) and, on a host
  with the network role, its address on the external network ``public``;
- the host's bridge namespaces are ``osnet-h<n><id>-<network>`` (a scope per
  host, ``network.namespace_scope``); instance, DHCP and router namespaces are
  unique anyway.

Nothing is routed or NATed in the root namespace and its forwarding stays off.
``cluster.json`` in the state directory records every process and namespace;
:meth:`Cluster.down` stops the processes (by PID), destroys the hosts'
instances with their own driver, removes every namespace the hosts' network
registries list, then the hosts' and the underlay's namespaces.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onestack.common import owners

CLUSTER_FILE = "cluster.json"
UNDERLAY_PREFIX = "100.64.0."
#: a simulated host's database connections: PostgreSQL's default limit (100) is shared by
#: every host and the controller (docs/scaling.md)
HOST_DB_POOL = {"ONESTACK_DB_POOL_SIZE": "2", "ONESTACK_DB_MAX_OVERFLOW": "2"}
#: devices of each storage node (two per host: a stopped host's writes find handoffs)
NODE_DEVICES = 2
#: the underlay's MTU leaves room for VXLAN's 50 bytes under a 1500-byte tenant MTU
UNDERLAY_MTU = 1600


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class HostSpec:
    name: str
    roles: tuple[str, ...]


@dataclass
class ClusterState:
    """What ``cluster.json`` records."""

    id: str
    state_dir: str
    controller_pid: int | None = None
    underlay: str = ""
    hosts: list[dict[str, Any]] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)
    #: the ``ONESTACK_*`` settings the hosts were started with (never passwords)
    env: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2))

    @classmethod
    def load(cls, path: Path) -> ClusterState:
        return cls(**json.loads(path.read_text()))


def _ip(*args: str, netns: str | None = None, check: bool = True) -> None:
    argv = ["ip", *args]
    if netns is not None:
        argv = ["nsenter", f"--net=/run/netns/{netns}", "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)}: {result.stderr.strip()}")


def _alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return b"onestack" in cmdline and state != "Z"


def stop_process(pid: int, timeout: float = 30.0, sig: int = signal.SIGTERM) -> None:
    """Stop one process this cluster started (checked by its command line), by PID."""
    if not _alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


class Cluster:
    """A controller and simulated hosts under one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir.absolute()
        self.file = self.state_dir / CLUSTER_FILE

    @property
    def state(self) -> ClusterState:
        if not self.file.exists():
            raise ClusterError(f"no cluster in {self.state_dir}")
        return ClusterState.load(self.file)

    # -- up ---------------------------------------------------------------------------------

    def up(
        self,
        hosts: list[HostSpec],
        db_url: str,
        bus_url: str,
        *,
        ports: Mapping[str, int] | None = None,
        driver: str = "auto",
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
    ) -> ClusterState:
        """Start the controller, make the underlay and start every host."""
        if os.geteuid() != 0:
            raise ClusterError("simulated hosts need root (network namespaces)")
        if self.file.exists():
            raise ClusterError(f"a cluster already runs in {self.state_dir}: cluster down first")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = ClusterState(id=secrets.token_hex(3), state_dir=str(self.state_dir))
        state.underlay = f"osul-{state.id}"
        state.save(self.file)
        environment = {**os.environ, **(env or {})}
        state.env = {
            k: v for k, v in (env or {}).items()
            if k.startswith("ONESTACK_") and "PASSWORD" not in k
        }  # fmt: skip
        try:
            self._start_controller(state, db_url, bus_url, ports or {}, environment, timeout)
            self._underlay(state)
            for index, spec in enumerate(hosts, start=1):
                self._add_host(state, index, spec)
                state.save(self.file)
            for host in state.hosts:
                self._start_host(state, host, driver, environment)
                state.save(self.file)
            for host in state.hosts:
                self._wait_host(host, timeout)
            self._object_ring(state)
        except BaseException:
            self.down()
            raise
        return state

    def _start_controller(
        self,
        state: ClusterState,
        db_url: str,
        bus_url: str,
        ports: Mapping[str, int],
        env: dict[str, str],
        timeout: float,
    ) -> None:
        directory = self.state_dir / "controller"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "onestack.state.json").unlink(missing_ok=True)
        argv = [
            sys.executable, "-m", "onestack", "up", "--controller", "--state-dir", str(directory),
            "--db-url", db_url, "--bus-url", bus_url, "--no-user-clouds",
        ]  # fmt: skip
        for name, port in ports.items():
            argv += ["--port", f"{name}={port}"]
        process = self._spawn(argv, directory / "onestack.log", env)
        state.controller_pid = process.pid
        state.save(self.file)
        state_file = directory / "onestack.state.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ClusterError("the controller exited:\n" + _tail(directory / "onestack.log"))
            if state_file.exists():
                try:
                    found = json.loads(state_file.read_text())
                except ValueError:
                    found = {}
                if found.get("pid") == process.pid:
                    state.endpoints = dict(found["endpoints"])
                    shutil.copy(directory / "clouds.yaml", self.state_dir / "clouds.yaml")
                    return
            time.sleep(0.05)
        raise ClusterError("the controller did not start:\n" + _tail(directory / "onestack.log"))

    def _underlay(self, state: ClusterState) -> None:
        _ip("netns", "add", state.underlay)
        _ip("link", "set", "lo", "up", netns=state.underlay)
        _ip("link", "add", "br0", "mtu", str(UNDERLAY_MTU), "type", "bridge", netns=state.underlay)
        _ip("link", "set", "br0", "up", netns=state.underlay)

    def _add_host(self, state: ClusterState, index: int, spec: HostSpec) -> None:
        netns = f"oshost-{state.id}-{index}"
        address = f"{UNDERLAY_PREFIX}{10 + index}"
        host: dict[str, Any] = {
            "name": spec.name, "roles": list(spec.roles), "netns": netns, "address": address,
            "scope": f"h{index}{state.id}", "state_dir": str(self.state_dir / spec.name),
            "pid": None, "env": dict(HOST_DB_POOL),
        }  # fmt: skip
        if "object" in spec.roles:
            host["env"] |= {"ONESTACK_OBJECT__NODE_PORT": str(_free_port()),
                            "ONESTACK_OBJECT__NODE_DEVICES": str(NODE_DEVICES)}  # fmt: skip
        state.hosts.append(host)
        state.save(self.file)
        _ip("netns", "add", netns)
        _ip("link", "set", "lo", "up", netns=netns)
        leg = f"ulh{index}"
        _ip("link", "add", leg, "mtu", str(UNDERLAY_MTU), "type", "veth", "peer", "name", "ul0",
            "netns", netns, netns=state.underlay)  # fmt: skip
        _ip("link", "set", leg, "master", "br0", "up", netns=state.underlay)
        _ip("addr", "add", f"{address}/24", "dev", "ul0", netns=netns)
        _ip("link", "set", "ul0", "mtu", str(UNDERLAY_MTU), "up", netns=netns)

    def _object_ring(self, state: ClusterState) -> None:
        """Give the controller's ring the storage nodes' devices instead of its own: one
        zone per host, so that the replicas of an object land on distinct hosts."""
        from onestack.node import node_devices
        from onestack.object.ring import RING_FILE, Ring

        nodes = [h for h in state.hosts if "object" in h["roles"]]
        if not nodes:
            return
        path = self.state_dir / "controller" / "object" / RING_FILE
        ring = Ring.load(path)
        for device in [d for d in ring.devices if not d.address]:
            ring.remove_device(device.name)
        for zone, host in enumerate(nodes, start=1):
            address = f"127.0.0.1:{host['env']['ONESTACK_OBJECT__NODE_PORT']}"
            for name in node_devices(host["name"], NODE_DEVICES):
                ring.add_device(name, zone, 1.0, address)
        ring.rebalance()
        ring.save(path)

    def _start_host(
        self, state: ClusterState, host: dict[str, Any], driver: str, env: dict[str, str]
    ) -> None:
        directory = Path(host["state_dir"])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "host.state.json").unlink(missing_ok=True)
        token = self.state_dir / "controller" / "join-token"
        argv = [
            sys.executable, "-m", "onestack", "host", "join", "--token-file", str(token),
            "--name", host["name"], "--roles", ",".join(host["roles"]),
            "--state-dir", str(directory), "--local-ip", host["address"],
            "--underlay-netns", host["netns"], "--namespace-scope", host["scope"],
            "--driver", driver,
        ]  # fmt: skip
        process = self._spawn(argv, directory / "host.log", {**env, **host["env"]})
        host["pid"] = process.pid
        host["argv"] = argv

    def _wait_host(self, host: dict[str, Any], timeout: float) -> None:
        directory = Path(host["state_dir"])
        state_file = directory / "host.state.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(int(host["pid"])):
                raise ClusterError(f"host {host['name']} exited:\n" + _tail(directory / "host.log"))
            if state_file.exists():
                return
            time.sleep(0.05)
        raise ClusterError(f"host {host['name']} did not start:\n" + _tail(directory / "host.log"))

    @staticmethod
    def _spawn(argv: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            return subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=dict(env),
                start_new_session=True,
            )  # fmt: skip

    # -- one host at a time (liveness tests, operators) ---------------------------------------

    def stop_host(self, name: str) -> None:
        """Stop a host's process (its instances and data plane stay, as after a crash)."""
        state = self.state
        host = self._host(state, name)
        if host["pid"]:
            stop_process(int(host["pid"]))
        host["pid"] = None
        state.save(self.file)

    def start_host(self, name: str, timeout: float = 120.0) -> None:
        """Start a stopped host again with the command it first had."""
        state = self.state
        host = self._host(state, name)
        if host["pid"] and _alive(int(host["pid"])):
            return
        directory = Path(host["state_dir"])
        (directory / "host.state.json").unlink(missing_ok=True)
        environment = {**os.environ, **state.env, **host["env"]}
        process = self._spawn(list(host["argv"]), directory / "host.log", environment)
        host["pid"] = process.pid
        state.save(self.file)
        self._wait_host(host, timeout)

    @staticmethod
    def _host(state: ClusterState, name: str) -> dict[str, Any]:
        for host in state.hosts:
            if host["name"] == name:
                return host
        raise ClusterError(f"no host {name} in this cluster")

    # -- down -------------------------------------------------------------------------------

    def down(self) -> None:
        """Stop every process and remove every namespace and device the cluster made."""
        if not self.file.exists():
            return
        state = ClusterState.load(self.file)
        for host in state.hosts:
            if host.get("pid"):
                stop_process(int(host["pid"]))
        for host in state.hosts:
            self._clean_host(host)
        if state.controller_pid:
            stop_process(state.controller_pid)
        for host in state.hosts:
            _delete_netns(host["netns"])
        if state.underlay:
            _delete_netns(state.underlay)
        self.file.unlink(missing_ok=True)

    @staticmethod
    def _clean_host(host: dict[str, Any]) -> None:
        """Destroy the host's instances with its driver and remove its data plane."""
        from onestack.network.drivers.linux import commands
        from onestack.network.drivers.linux.registry import Registry, registry_dir

        directory = Path(host["state_dir"])
        if (directory / "compute").exists():
            _destroy_instances(directory, host["name"])
        owned = Registry(registry_dir(directory)).names()
        for name in sorted(owned & commands.namespaces()):
            _delete_netns(name)
        owner = owners.read(directory)
        if owner is not None and not owner.alive():
            owners.forget(owner)  # the host's record: nothing of it is left


def _destroy_instances(state_dir: Path, name: str) -> None:
    from onestack.compute.conf import ComputeSettings
    from onestack.compute.drivers import load_driver

    for driver_name in ("container", "fake"):
        if driver_name == "container" and not (state_dir / "compute" / "runc").exists():
            continue
        settings = ComputeSettings(driver=driver_name)
        driver = load_driver(settings, state_dir, name)
        for instance_id in driver.list_instances():
            driver.destroy(instance_id)


def _free_port() -> int:
    """A port free now below the ephemeral range (no outgoing connection takes it)."""
    import random
    import socket

    floor = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randint(max(1024, floor - 12000), floor - 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def _delete_netns(name: str) -> None:
    if not (Path("/run/netns") / name).exists():
        return
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    for pid in pids.stdout.split():
        if pid.isdigit():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    _ip("netns", "delete", name, check=False)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
