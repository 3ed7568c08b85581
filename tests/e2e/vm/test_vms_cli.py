"""User stories with virtual machines, through the ``openstack`` CLI.

The tests share one booted VM (``vm``) and leave it ACTIVE; the order below
is the order they run in.  Effects are checked from the host: ping and SSH
through the floating IP, the console log, websockets, processes and files.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets

from onestack.guests import vm as vm_image
from onestack.network.drivers.linux import commands as linux
from tests.e2e.vm.conftest import BootedVm, VmCloud, wait_for

pytestmark = [pytest.mark.root, pytest.mark.cli]


def _uptime(plane: VmCloud, address: str) -> float:
    return float(plane.ssh_ok(address, "cut -d' ' -f1 /proc/uptime").strip())


def test_a_vm_behind_a_router_answers_ping_and_ssh(plane: VmCloud, vm: BootedVm) -> None:
    shown = plane.cli("server", "show", vm.id, "-f", "json")
    assert shown["OS-EXT-SRV-ATTR:host"].endswith("-vm")  # placed on the VM host
    assert wait_for(lambda: plane.ping(vm.address), 30)
    # the guest's hostname is the server's name; the user_data script ran
    assert plane.ssh_ok(vm.address, "hostname").strip() == vm.name
    ran = plane.ssh_ok(vm.address, "cat /root/user-data.txt")
    assert ran.strip() == f"user-data ran on {vm.name}"
    # a real kernel: Debian's, booted by syslinux from the disk's MBR
    assert "SYSLINUX" in plane.cli("console", "log", "show", vm.id)
    assert plane.ssh_ok(vm.address, "uname -r").strip().endswith("-amd64")


def test_os_hypervisors_show_both_hosts(plane: VmCloud, vm: BootedVm) -> None:
    hypervisors = plane.cli("hypervisor", "list", "--long", "-f", "json")
    kinds = {h["Hypervisor Type"] for h in hypervisors}
    assert "container" in kinds
    assert kinds & {"QEMU", "KVM"}
    services = plane.cli("compute", "service", "list", "--service", "nova-compute", "-f", "json")
    assert len(services) == 2 and all(s["State"] == "up" for s in services)


def test_serial_console_websocket_gives_a_login_prompt(plane: VmCloud, vm: BootedVm) -> None:
    url = plane.cli("console", "url", "show", "--serial", vm.id, "-f", "json")["url"]
    assert url.startswith("ws://")

    async def talk() -> bytes:
        async with websockets.connect(url, subprotocols=["binary"]) as ws:  # type: ignore[list-item]
            seen = b""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90  # a TCG guest on a busy host types slowly
            while b"login:" not in seen and loop.time() < deadline:
                if not seen.endswith(b" "):  # ask getty for its prompt (again)
                    await ws.send(b"\r")
                try:
                    data = await asyncio.wait_for(ws.recv(), 10)
                    seen += data if isinstance(data, bytes) else data.encode()
                except TimeoutError:
                    seen += b"\n"
            return seen

    seen = asyncio.run(talk())
    assert f"{vm.name} login:".encode() in seen


def test_novnc_page_and_its_websocket_speak_rfb(plane: VmCloud, vm: BootedVm) -> None:
    url = plane.cli("console", "url", "show", "--novnc", vm.id, "-f", "json")["url"]
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert b"noVNC" in response.read()
    parsed = urllib.parse.urlparse(url)
    path = urllib.parse.parse_qs(parsed.query)["path"][0]  # "?token=..."
    ws_url = f"ws://{parsed.netloc}/{path}"

    async def handshake() -> bytes:
        async with websockets.connect(ws_url, subprotocols=["binary"]) as ws:  # type: ignore[list-item]
            greeting = await asyncio.wait_for(ws.recv(), 10)
            return greeting if isinstance(greeting, bytes) else greeting.encode()

    assert asyncio.run(handshake()).startswith(b"RFB 003.")


def test_console_tokens_are_refused_to_anyone_else(plane: VmCloud, vm: BootedVm) -> None:
    # another project does not even see the server
    other = plane.cli("console", "url", "show", "--serial", vm.id, cloud="onestack-demo",
                      check=False)  # fmt: skip
    assert other.returncode != 0 and "No Server found" in other.stderr
    serial = plane.cli("console", "url", "show", "--serial", vm.id, "-f", "json")["url"]
    token = urllib.parse.parse_qs(urllib.parse.urlparse(serial).query)["token"][0]
    novnc = plane.cli("console", "url", "show", "--novnc", vm.id, "-f", "json")["url"]
    vnc_proxy = urllib.parse.urlparse(novnc).netloc

    async def refused(url: str) -> bool:
        try:
            async with websockets.connect(url) as ws:
                await ws.recv()
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code == 403
        return False

    # a made-up token, and a serial token on the VNC proxy, are both refused
    forged = serial.replace(token, token[::-1])
    assert asyncio.run(refused(forged))
    assert asyncio.run(refused(f"ws://{vnc_proxy}/?token={token}"))


def test_pause_freezes_the_guest_and_unpause_resumes_it(plane: VmCloud, vm: BootedVm) -> None:
    assert wait_for(lambda: plane.ping(vm.address), 30)
    plane.cli("server", "pause", vm.id)
    assert plane.wait_status(vm.id, "PAUSED")
    assert not plane.ping(vm.address) and not plane.ping(vm.address)
    plane.cli("server", "unpause", vm.id)
    assert wait_for(lambda: plane.ping(vm.address), 30)


def test_stop_start_and_reboot_boot_the_guest_again(plane: VmCloud, vm: BootedVm) -> None:
    boots = plane.console(vm.id).count("onestack-vm booted")
    before = _uptime(plane, vm.address)
    plane.cli("server", "stop", vm.id)
    assert plane.wait_status(vm.id, "SHUTOFF")
    assert "onestack-vm: stopping" in plane.console(vm.id)  # the ACPI shutdown reached init
    assert not list((plane.vms_dir / vm.id).glob("*.sock"))
    plane.cli("server", "start", vm.id)
    assert plane.wait_status(vm.id, "ACTIVE")
    after_start = _uptime(plane, vm.address)
    assert after_start < before + 5
    assert plane.console(vm.id).count("onestack-vm booted") == boots + 1
    plane.cli("server", "reboot", "--wait", vm.id)
    assert wait_for(lambda: plane.console(vm.id).count("onestack-vm booted") == boots + 2, 90)
    assert _uptime(plane, vm.address) < after_start + 60


def test_volume_bytes_go_from_vm_to_container_and_back(plane: VmCloud, vm: BootedVm) -> None:
    name = f"vol-{uuid.uuid4().hex[:6]}"
    container = plane.boot(f"ct-{name}", image="onestack-busybox")
    assert container["OS-EXT-SRV-ATTR:host"] != plane.cli(
        "server", "show", vm.id, "-f", "json")["OS-EXT-SRV-ATTR:host"]  # fmt: skip
    volume = plane.cli("volume", "create", "--size", "1", name, "-f", "json")
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "available")
    marker = f"from-the-vm-{uuid.uuid4().hex}"
    # hot-plugged into the running VM as a virtio disk, written there
    plane.cli("server", "add", "volume", vm.id, volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "in-use")
    device = plane.ssh_ok(vm.address, f"grep -l {volume['id'][:20]} /sys/block/vd*/serial")
    disk = "/dev/" + device.strip().split("/")[3]
    plane.ssh_ok(vm.address, f"echo {marker} | dd of={disk} conv=fsync 2>/dev/null && sync")
    plane.cli("server", "remove", "volume", vm.id, volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "available")
    assert disk.split("/")[-1] not in plane.ssh_ok(vm.address, "ls /sys/block")
    # read back in the container
    plane.cli("server", "add", "volume", container["id"], volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "in-use")
    device = _attached_device(plane, container["id"], volume["id"])
    assert _in_container(plane, container["id"], f"head -c {len(marker)} {device}") == marker
    # and the reverse: the container writes, the VM reads
    back = f"from-the-container-{uuid.uuid4().hex}"
    _in_container(plane, container["id"], f"echo {back} | dd of={device} conv=fsync 2>/dev/null")
    plane.cli("server", "remove", "volume", container["id"], volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "available")
    plane.cli("server", "add", "volume", vm.id, volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "in-use")
    device = plane.ssh_ok(vm.address, f"grep -l {volume['id'][:20]} /sys/block/vd*/serial")
    disk = "/dev/" + device.strip().split("/")[3]
    assert plane.ssh_ok(vm.address, f"head -c {len(back)} {disk}") == back
    plane.cli("server", "remove", "volume", vm.id, volume["id"])
    assert wait_for(lambda: plane.volume_status(volume["id"]) == "available")
    plane.cli("volume", "delete", volume["id"])
    plane.cli("server", "delete", "--wait", container["id"])


def _attached_device(plane: VmCloud, server_id: str, volume_id: str) -> str:
    listed = plane.cli("server", "volume", "list", server_id, "-f", "json")
    return str(next(v["Device"] for v in listed if v["Volume ID"] == volume_id))


def _in_container(plane: VmCloud, server_id: str, command: str) -> str:
    import subprocess

    root = plane.cloud.state_dir / "compute" / "runc"
    state = subprocess.run(["runc", "--root", str(root), "state", server_id],
                           capture_output=True, text=True, check=True)  # fmt: skip
    pid = json.loads(state.stdout)["pid"]
    done = subprocess.run(["nsenter", "-t", str(pid), "-m", "-p", "sh", "-c", command],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    return done.stdout


def test_create_image_boots_a_new_vm_with_the_file(plane: VmCloud, vm: BootedVm) -> None:
    marker = f"written-before-the-snapshot-{uuid.uuid4().hex}"
    plane.ssh_ok(vm.address, f"echo {marker} > /root/marker && sync")
    name = f"snap-{uuid.uuid4().hex[:6]}"
    plane.cli("server", "image", "create", "--name", name, "--wait", vm.id)
    image = plane.cli("image", "show", name, "-f", "json")
    assert image["disk_format"] == "qcow2" and image["status"] == "active"
    clone = plane.boot(f"clone-{name}", image=name)
    address = plane.floating_ip(clone["id"])
    assert plane.ssh_ok(address, "cat /root/marker").strip() == marker
    assert plane.ssh_ok(address, "hostname").strip() == f"clone-{name}"
    plane.cli("server", "delete", "--wait", clone["id"])
    plane.cli("floating", "ip", "delete", address)
    plane.cli("image", "delete", name)


def test_shelve_and_unshelve_keep_the_vms_disk_and_address(plane: VmCloud, vm: BootedVm) -> None:
    marker = f"written-before-shelve-{uuid.uuid4().hex}"
    plane.ssh_ok(vm.address, f"echo {marker} > /root/shelved && sync")
    plane.cli("server", "shelve", vm.id)
    assert plane.wait_status(vm.id, "SHELVED_OFFLOADED")
    assert not list((plane.vms_dir / vm.id).glob("*.sock"))  # nothing runs on a host
    plane.cli("server", "unshelve", vm.id)
    assert plane.wait_status(vm.id, "ACTIVE")
    assert plane.ssh_ok(vm.address, "cat /root/shelved").strip() == marker
    assert plane.cli("image", "list", "--name", f"{vm.name}-shelved", "-f", "json") == []


def test_an_interface_hot_plugs_into_the_running_vm_and_out(plane: VmCloud, vm: BootedVm) -> None:
    name = f"second-{uuid.uuid4().hex[:6]}"
    plane.cli("network", "create", name)
    plane.cli("subnet", "create", name, "--network", name, "--subnet-range", "10.213.9.0/24")
    plane.cli("server", "add", "network", vm.id, name)
    ports = plane.cli("port", "list", "--server", vm.id, "--network", name, "-f", "json")
    assert len(ports) == 1
    mac = ports[0]["MAC Address"]
    seen = wait_for(lambda: mac in plane.ssh_ok(vm.address, "cat /sys/class/net/*/address"), 30)
    assert seen, "the guest did not see the hot-plugged NIC"
    plane.cli("server", "remove", "port", vm.id, ports[0]["ID"])
    assert wait_for(lambda: mac not in plane.ssh_ok(vm.address, "cat /sys/class/net/*/address"))
    assert wait_for(lambda: plane.ping(vm.address), 30)  # the first NIC is untouched
    plane.cli("network", "delete", name)


def test_resize_gives_the_guest_its_new_flavor_at_the_next_boot(
    plane: VmCloud, vm: BootedVm
) -> None:
    def memory_kib() -> int:
        line = plane.ssh_ok(vm.address, "grep MemTotal /proc/meminfo")
        return int(line.split()[1])

    before = memory_kib()
    plane.cli("server", "resize", "--flavor", "m1.small", "--wait", vm.id)
    assert plane.status(vm.id) == "VERIFY_RESIZE"
    assert memory_kib() > before + 1024 * 1024  # 512 MiB -> 2 GiB
    plane.cli("server", "resize", "confirm", vm.id)
    assert plane.wait_status(vm.id, "ACTIVE")
    flavor = plane.cli("server", "show", vm.id, "-f", "json")["flavor"]
    assert (flavor.get("original_name") if isinstance(flavor, dict) else flavor) == "m1.small"


def test_kill_9_of_onestack_leaves_the_vm_running_and_controllable(
    plane: VmCloud, vm: BootedVm
) -> None:
    uptime = _uptime(plane, vm.address)
    plane.cloud.kill()
    assert plane.ping(vm.address) or wait_for(lambda: plane.ping(vm.address), 10)
    plane.cloud.start()
    shown = plane.cli("server", "show", vm.id, "-f", "json")
    assert shown["status"] == "ACTIVE"
    assert _uptime(plane, vm.address) >= uptime  # the same boot: it never stopped
    plane.cli("server", "pause", vm.id)  # the new onestack controls it over QMP again
    assert plane.wait_status(vm.id, "PAUSED")
    assert not plane.ping(vm.address)
    plane.cli("server", "unpause", vm.id)
    assert wait_for(lambda: plane.ping(vm.address), 30)


def test_delete_leaves_nothing_behind(plane: VmCloud, vm: BootedVm) -> None:
    files = plane.vms_dir / vm.id
    pid = int((files / "qemu.pid").read_text())
    ports = plane.cli("port", "list", "--server", vm.id, "-f", "json")
    plane.cli("server", "delete", "--wait", vm.id)
    assert not Path(f"/proc/{pid}").exists()
    assert not files.exists()
    assert not any(p.name.startswith(vm.id) for p in plane.vms_dir.iterdir())
    for port in ports:
        tap = "ostap-" + port["ID"].replace("-", "")[:9]
        assert all(tap not in linux.links(ns) for ns in linux.namespaces() if ns.startswith("os"))
    cgroups = list(Path("/sys/fs/cgroup").glob(f"*/**/onestack-vm-{vm.id}"))
    assert cgroups == []
    assert vm_image.NAME  # the shared image stays


def test_an_image_no_host_can_run_fails_with_no_valid_host(plane: VmCloud) -> None:
    name = f"kvm-only-{uuid.uuid4().hex[:6]}"
    disk = plane.base / f"{name}.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    plane.cli("image", "create", "--disk-format", "raw", "--file", str(disk),
              "--property", "hypervisor_type=xen", name)  # fmt: skip
    done = plane.cli("server", "create", name, "--image", name, "--flavor", "m1.tiny",
                     "--network", plane.network, "--wait", check=False)  # fmt: skip
    shown = plane.cli("server", "show", name, "-f", "json")
    assert shown["status"] == "ERROR", done.stdout
    assert "No valid host was found" in json.dumps(shown["fault"])
    plane.cli("server", "delete", "--wait", name)
    plane.cli("image", "delete", name)


def test_bytes_that_hold_no_os_still_make_an_active_vm(plane: VmCloud) -> None:
    name = f"no-os-{uuid.uuid4().hex[:6]}"
    disk = plane.base / f"{name}.qcow2"
    disk.write_bytes(b"not a disk image at all\n" * 100)
    plane.cli("image", "create", "--disk-format", "raw", "--file", str(disk), name)
    server = plane.boot(name, image=name)
    assert server["OS-EXT-SRV-ATTR:host"].endswith("-vm")
    plane.cli("server", "delete", "--wait", server["id"])
    plane.cli("image", "delete", name)


def test_a_volume_of_bytes_with_no_os_boots_as_a_vm_too(plane: VmCloud) -> None:
    # Tempest's image dependency test: the user makes the volume, Nova gets only its id
    name = f"no-os-vol-{uuid.uuid4().hex[:6]}"
    disk = plane.base / f"{name}.raw"
    disk.write_bytes(os.urandom(1024))
    plane.cli("image", "create", "--disk-format", "raw", "--file", str(disk), name)
    plane.cli("volume", "create", "--image", name, "--size", "1", "--bootable", name)
    assert wait_for(
        lambda: plane.cli("volume", "show", name, "-f", "json")["status"] == "available", 60
    )
    server = plane.cli("server", "create", name, "--volume", name, "--flavor", "m1.tiny",
                       "--network", plane.network, "--wait", "-f", "json")  # fmt: skip
    assert server["status"] == "ACTIVE", server
    assert server["OS-EXT-SRV-ATTR:host"].endswith("-vm")
    # createImage of the volume-backed VM holds the volume's bytes
    plane.cli("server", "image", "create", "--name", f"{name}-snap", "--wait", server["id"])
    qcow2, raw = plane.base / f"{name}-snap.qcow2", plane.base / f"{name}-snap.raw"
    plane.cli("image", "save", "--file", str(qcow2), f"{name}-snap")
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow2), str(raw)],
                   check=True)  # fmt: skip
    with raw.open("rb") as f:
        assert f.read(1024) == disk.read_bytes()
    assert raw.stat().st_size == 1024**3
    plane.cli("image", "delete", f"{name}-snap")
    plane.cli("server", "delete", "--wait", server["id"])
    plane.cli("volume", "delete", name)
    plane.cli("image", "delete", name)


def test_a_vm_boots_from_a_volume_made_from_its_image(plane: VmCloud) -> None:
    name = f"bfv-{uuid.uuid4().hex[:6]}"
    server = plane.boot(name, "--boot-from-volume", "1")
    assert server["OS-EXT-SRV-ATTR:host"].endswith("-vm")
    assert wait_for(lambda: "onestack-vm: ready" in plane.console(server["id"]), 120)
    assert not (plane.vms_dir / server["id"] / "disk.qcow2").exists()  # the volume is the disk
    plane.cli("server", "delete", "--wait", server["id"])
