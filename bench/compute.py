"""Compute benchmarks: boot latency, concurrent boots, list latency, virtual machines.

    .venv/bin/python bench/compute.py [--driver container|fake] [--boots 20]
        [--concurrent 50] [--list 1000] [--vms 3] [--vm-concurrent 10]

Starts its own onestack on free ports.  Figures: time from POST /servers to
ACTIVE (p50/p95 over sequential boots, polled every 10 ms), total time for
concurrent boots until all are ACTIVE, and GET /servers and
/servers/detail latency with many servers (fake driver).  Results go to
docs/benchmarks.md by hand.

VM figures (``--vms``, as root with QEMU; the real data plane): POST to
ACTIVE and POST to "SSH answers" (from the router's namespace to the fixed
address, key pair login, polled every 50 ms) for ``onestack-vm`` on m1.nano,
side by side with a plain ``qemu-system-x86_64`` boot of the same image (the
same machine type, accelerator, RAM and a config drive; SSH through QEMU's
user network) to the same point; host memory per VM beyond its guest RAM
(QEMU's resident memory outside the guest RAM mapping, from
``/proc/<pid>/smaps``); and ``--vm-concurrent`` boots at once until all are
ACTIVE and all answer SSH.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import new_cloud


def _wait_active(conn: Any, server_id: str, timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = conn.compute.get(f"/servers/{server_id}", microversion="2.1").json()["server"]
        if body["status"] == "ACTIVE":
            return time.monotonic()
        if body["status"] == "ERROR":
            raise RuntimeError(f"{server_id} went to ERROR: {body.get('fault')}")
        time.sleep(0.01)
    raise TimeoutError(server_id)


def _post(conn: Any, image_id: str, name: str, count: int = 1) -> str:
    body = {
        "server": {
            "name": name,
            "imageRef": image_id,
            "flavorRef": "42",
            "networks": "none",
            "min_count": count,
            "max_count": count,
        }
    }
    resp = conn.compute.post("/servers", json=body, microversion="2.37")
    return str(resp.json()["server"]["id"])


def _delete_all(conn: Any) -> None:
    servers = list(conn.compute.servers())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: conn.compute.delete_server(s), servers))
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.2, wait=300)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_boots(driver: str, boots: int, concurrent: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cloud = new_cloud(
            Path(tmp), ONESTACK_COMPUTE__DRIVER=driver, ONESTACK_COMPUTE__CPU_ALLOCATION_RATIO="64"
        ).start()
        try:
            conn = cloud.connect()
            conn.compute.update_quota_set(conn.current_project_id, instances=-1, cores=-1, ram=-1)
            image_id = conn.image.find_image("onestack-busybox").id
            times = []
            for n in range(boots):
                began = time.monotonic()
                server_id = _post(conn, image_id, f"seq-{n}")
                times.append(_wait_active(conn, server_id) - began)
            print(
                f"[{driver}] sequential boots: n={boots} p50={statistics.median(times):.3f}s "
                f"p95={_pct(times, 0.95):.3f}s first={times[0]:.3f}s min={min(times):.3f}s"
            )
            _delete_all(conn)
            began = time.monotonic()
            with ThreadPoolExecutor(concurrent) as pool:
                ids = list(pool.map(lambda n: _post(conn, image_id, f"par-{n}"), range(concurrent)))
                list(pool.map(lambda i: _wait_active(conn, i, 300), ids))
            total = time.monotonic() - began
            print(f"[{driver}] concurrent boots: n={concurrent} all ACTIVE in {total:.2f}s")
            _delete_all(conn)
        finally:
            cloud.stop()


def bench_list(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cloud = new_cloud(Path(tmp), ONESTACK_COMPUTE__DRIVER="fake").start()
        try:
            conn = cloud.connect()
            conn.compute.update_quota_set(conn.current_project_id, instances=-1, cores=-1, ram=-1)
            image_id = conn.image.find_image("onestack-busybox").id
            made = 0
            while made < count:
                batch = min(100, count - made)
                _post(conn, image_id, f"many-{made}", batch)
                made += batch
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                body = conn.compute.get("/servers?status=BUILD&limit=1", microversion="2.1")
                if not body.json()["servers"]:
                    break
                time.sleep(0.5)
            for path in (
                "/servers?limit=1000",
                "/servers/detail?limit=1000",
                "/servers/detail?limit=100",
            ):
                samples = []
                for _ in range(10):
                    began = time.monotonic()
                    resp = conn.compute.get(path, microversion="2.100")
                    samples.append(time.monotonic() - began)
                    assert resp.status_code == 200
                n = len(resp.json()["servers"])
                print(
                    f"[fake] GET {path} ({n} servers of {count}): "
                    f"p50={statistics.median(samples) * 1000:.0f} ms "
                    f"p95={_pct(samples, 0.95) * 1000:.0f} ms"
                )
        finally:
            cloud.stop()


def _ssh_argv(key: Path, address: str, port: int = 22) -> list[str]:
    return [
        "ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=2", "-o", "LogLevel=ERROR",
        "-o", "BatchMode=yes", f"root@{address}", "true",
    ]  # fmt: skip


def _wait_ssh(argv: list[str], timeout: float = 300.0) -> float:
    import subprocess

    deadline = time.monotonic() + timeout
    error = b""
    while time.monotonic() < deadline:
        done = subprocess.run(argv, capture_output=True, timeout=30)
        if done.returncode == 0:
            return time.monotonic()
        error = done.stderr
        time.sleep(0.05)
    raise TimeoutError(f"{' '.join(argv)}: {error.decode(errors='replace')}")


def _overhead_mib(pid: int, guest_mib: int) -> float:
    """QEMU's resident memory outside the guest RAM mapping, in MiB."""
    total = guest = 0
    size = 0
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields[0] == "Size:":
            size = int(fields[1])
        elif fields[0] == "Rss:":
            rss = int(fields[1])
            total += rss
            if size == guest_mib * 1024:
                guest += rss
    return (total - guest) / 1024


def _plain_qemu_boot(work: Path, key: Path, accel: str) -> tuple[float, float]:
    """(seconds to the QEMU process, seconds to SSH answering) of a bare QEMU boot."""
    import subprocess

    from tests.support.server import free_port

    from onestack.guests import vm as vm_image

    base = vm_image.cached_image()
    disk = work / "plain.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base),
                    str(disk), "1G"], check=True)  # fmt: skip
    tree = work / "config" / "openstack" / "latest"
    tree.mkdir(parents=True, exist_ok=True)
    key_data = Path(f"{key}.pub").read_text().strip()
    meta = {"hostname": "plain", "public_keys": {"k": key_data}, "uuid": "plain"}
    (tree / "meta_data.json").write_text(json.dumps(meta))
    iso = work / "config.iso"
    subprocess.run(["genisoimage", "-quiet", "-o", str(iso), "-V", "config-2", "-J", "-r",
                    str(work / "config")], check=True)  # fmt: skip
    port = free_port()
    pidfile = work / "plain.pid"
    began = time.monotonic()
    subprocess.run([
        "qemu-system-x86_64", "-machine", f"pc,accel={accel}", "-m", "128M", "-nodefaults",
        "-no-user-config", "-display", "none", "-daemonize", "-pidfile", str(pidfile),
        "-serial", f"file:{work / 'plain.log'}",
        "-drive", f"file={disk},if=virtio,format=qcow2",
        "-drive", f"file={iso},if=virtio,format=raw,readonly=on",
        "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci",
    ], check=True)  # fmt: skip
    launched = time.monotonic() - began
    try:
        answered = _wait_ssh(_ssh_argv(key, "127.0.0.1", port)) - began
    finally:
        import os
        import signal

        os.kill(int(pidfile.read_text()), signal.SIGKILL)
    return launched, answered


def bench_vms(boots: int, concurrent: int) -> None:
    import subprocess

    from onestack.compute.drivers.qemu.accel import AcceleratorChoice
    from onestack.compute.drivers.qemu.process import qemu_binary, qemu_version

    binary = qemu_binary()
    accel = AcceleratorChoice("auto", binary, qemu_version(binary)).current().name
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key = work / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        cloud = new_cloud(
            work, ONESTACK_NETWORK__DATA_PLANE="on", ONESTACK_COMPUTE__VM_HOST="on",
            ONESTACK_NETWORK__PUBLIC_CIDR="172.24.251.0/24",
            ONESTACK_COMPUTE__CPU_ALLOCATION_RATIO="64",
        ).start()  # fmt: skip
        try:
            conn = cloud.connect()
            conn.compute.update_quota_set(conn.current_project_id, instances=-1, cores=-1, ram=-1)
            deadline = time.monotonic() + 300
            while getattr(conn.image.find_image("onestack-vm"), "status", "") != "active":
                assert time.monotonic() < deadline, "onestack-vm was not registered"
                time.sleep(0.5)
            image_id = conn.image.find_image("onestack-vm").id
            conn.compute.create_keypair(name="bench", public_key=Path(f"{key}.pub").read_text())
            net = conn.network.create_network(name="bench")
            subnet = conn.network.create_subnet(network_id=net.id, cidr="10.251.0.0/24",
                                                ip_version=4, name="bench")  # fmt: skip
            public = conn.network.find_network("public")
            gateway = {"network_id": public.id}
            router = conn.network.create_router(name="bench", external_gateway_info=gateway)
            conn.network.add_interface_to_router(router, subnet_id=subnet.id)
            group = conn.network.find_security_group("default", project_id=conn.current_project_id)
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol="tcp",
                port_range_min=22, port_range_max=22,
            )  # fmt: skip
            netns = f"/run/netns/osrtr-{router.id}"

            def post(name: str, count: int = 1) -> str:
                body = {"server": {"name": name, "imageRef": image_id, "flavorRef": "42",
                                   "key_name": "bench", "networks": [{"uuid": net.id}],
                                   "min_count": count, "max_count": count}}  # fmt: skip
                resp = conn.compute.post("/servers", json=body, microversion="2.37")
                return str(resp.json()["server"]["id"])

            def ssh_via_router(server_id: str) -> list[str]:
                addresses = conn.compute.get_server(server_id).addresses["bench"]
                return ["nsenter", f"--net={netns}", *_ssh_argv(key, addresses[0]["addr"])]

            active, answered, overheads = [], [], []
            for n in range(boots):
                began = time.monotonic()
                server_id = post(f"vm-{n}")
                active.append(_wait_active(conn, server_id, 300) - began)
                try:
                    answered.append(_wait_ssh(ssh_via_router(server_id)) - began)
                except TimeoutError:
                    print(conn.compute.get_server_console_output(server_id)["output"][-3000:])
                    raise
                pid = int((cloud.state_dir / "compute/vms" / server_id / "qemu.pid").read_text())
                overheads.append(_overhead_mib(pid, 128))
                conn.compute.delete_server(server_id)
                conn.compute.wait_for_delete(conn.compute.get_server(server_id), wait=120)
            plain = [_plain_qemu_boot(work / f"plain-{n}", key, accel) for n in range(boots)
                     if (work / f"plain-{n}").mkdir() is None]  # fmt: skip
            print(f"[qemu/{accel}] POST -> ACTIVE ({boots} sequential): "
                  f"p50={statistics.median(active):.2f} s; plain QEMU to its process: "
                  f"{statistics.median(p[0] for p in plain):.2f} s")  # fmt: skip
            print(f"[qemu/{accel}] POST -> SSH answers: p50={statistics.median(answered):.2f} s "
                  f"(max {max(answered):.2f}); plain qemu-system-x86_64 to SSH: "
                  f"p50={statistics.median(p[1] for p in plain):.2f} s")  # fmt: skip
            print(
                f"[qemu/{accel}] host memory per VM beyond its 128 MiB of guest RAM: "
                f"{statistics.median(overheads):.0f} MiB (QEMU's RSS outside the RAM mapping)"
            )
            began = time.monotonic()
            post("many", concurrent)
            ids = [s.id for s in conn.compute.servers(name="many")]
            ends = [_wait_active(conn, i, 600) for i in ids]
            all_active = max(ends) - began
            with ThreadPoolExecutor(concurrent) as pool:
                ssh_ends = list(pool.map(lambda i: _wait_ssh(ssh_via_router(i), 900), ids))
            all_ssh = max(ssh_ends) - began
            print(f"[qemu/{accel}] {concurrent} concurrent boots: all ACTIVE in "
                  f"{all_active:.1f} s, all answer SSH in {all_ssh:.1f} s")  # fmt: skip
            print(json.dumps({"active": active, "answered": answered, "plain": plain}))
            _delete_all(conn)
            conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
            conn.network.delete_router(router)
            conn.network.delete_network(net)
        finally:
            cloud.stop()
            from tests.e2e.vm.conftest import _kill_leftovers

            _kill_leftovers(cloud.state_dir)  # QEMUs, namespaces and devices of this cloud


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", default="container", choices=["container", "fake"])
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--list", type=int, default=1000)
    parser.add_argument("--vms", type=int, default=0, help="sequential VM boots (root, QEMU)")
    parser.add_argument("--vm-concurrent", type=int, default=10)
    args = parser.parse_args()
    if args.vms:
        bench_vms(args.vms, args.vm_concurrent)
        return
    if args.boots and args.concurrent:
        bench_boots(args.driver, args.boots, args.concurrent)
    if args.list:
        bench_list(args.list)


if __name__ == "__main__":
    main()
