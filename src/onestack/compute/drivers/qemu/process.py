"""QEMU processes: the accelerator probe, the command line, daemonized launch, cgroups.

A VM's QEMU runs daemonized (``-daemonize``, its own session), so it outlives
onestack; its pid file, QMP socket, serial socket, VNC socket and console log
are in the instance's directory.  ``probe_accelerator`` decides between KVM
and TCG by booting a probe guest under KVM, never by the mere presence of
``/dev/kvm`` (a nested hypervisor may offer ``/dev/kvm`` and still be unable
to run an ordinary kernel).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)

PROBE_MARK = "ONESTACK-ACCEL-PROBE-OK"


class QemuMissing(RuntimeError):
    """qemu-system-x86_64 is not installed."""


@dataclass(frozen=True)
class Accelerator:
    name: str  # "kvm" or "tcg"
    reason: str

    @property
    def hypervisor_type(self) -> str:
        """What os-hypervisors says: QEMU when guests run on TCG (as Nova's libvirt does)."""
        return "KVM" if self.name == "kvm" else "QEMU"


def qemu_binary(name: str = "qemu-system-x86_64") -> str:
    path = shutil.which(name)
    if path is None:
        raise QemuMissing(f"{name} not found: install the Debian package qemu-system-x86")
    return path


def qemu_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    words = out.split()
    index = words.index("version") + 1 if "version" in words else 0
    digits = [int(part) for part in words[index].split(".")[:3] if part.isdigit()]
    while len(digits) < 3:
        digits.append(0)
    return digits[0], digits[1], digits[2]


def probe_accelerator(
    binary: str, kernel: Path | None, initrd: Path | None, timeout: float = 10.0
) -> Accelerator:
    """KVM when a probe guest boots under it and says so on its serial port; else TCG."""
    if not os.path.exists("/dev/kvm"):
        return Accelerator("tcg", "/dev/kvm does not exist: guests run on TCG (emulation)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return Accelerator("tcg", "/dev/kvm is not accessible: guests run on TCG (emulation)")
    if kernel is None or initrd is None or not kernel.is_file() or not initrd.is_file():
        return Accelerator(
            "tcg", "/dev/kvm exists but no probe guest is built yet: guests run on TCG"
        )
    with tempfile.TemporaryDirectory(prefix="onestack-kvm-probe-") as work:
        serial = Path(work) / "serial.log"
        argv = [
            binary, "-M", "pc", "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults",
            "-no-user-config", "-display", "none", "-no-reboot",
            "-chardev", f"file,id=s0,path={serial}", "-device", "isa-serial,chardev=s0",
            "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", "console=ttyS0 panic=-1 quiet onestack.probe=1",
        ]  # fmt: skip
        began = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, preexec_fn=_die_with_parent,
            )  # fmt: skip
        except OSError as exc:
            return Accelerator("tcg", f"the KVM probe could not start: {exc}")
        try:
            while time.monotonic() - began < timeout:
                if serial.exists() and PROBE_MARK in serial.read_text(errors="replace"):
                    took = time.monotonic() - began
                    return Accelerator("kvm", f"a probe guest booted under KVM in {took:.1f} s")
                if proc.poll() is not None:
                    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
                    return Accelerator(
                        "tcg",
                        "/dev/kvm exists but a probe guest did not boot under KVM "
                        f"(QEMU exited with {proc.returncode}: {err.strip()[-200:]}): "
                        "guests run on TCG",
                    )
                time.sleep(0.05)
            return Accelerator(
                "tcg",
                f"/dev/kvm exists but a probe guest did not boot under KVM within {timeout:.0f} s: "
                "guests run on TCG",
            )
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


def _die_with_parent() -> None:
    """In the probe's child: SIGKILL when the thread that started it ends (onestack exits
    while a hanging KVM guest is still being waited for)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def read_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` when that process still runs (and is a QEMU)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if b"qemu-system" not in cmdline or str(pidfile).encode() not in cmdline:
        return None  # the pid was reused by something else
    return pid


def launch(argv: list[str], pass_fds: tuple[int, ...], pidfile: Path, log: Path) -> int:
    """Start a daemonized QEMU; returns its pid once it has set the guest up."""
    pidfile.unlink(missing_ok=True)
    with open(log, "ab") as err:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, pass_fds=pass_fds,
            start_new_session=True, timeout=120, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
        raise RuntimeError(f"QEMU exited with {done.returncode}: {tail.strip()}")
    pid = read_pid(pidfile)
    if pid is None:
        raise RuntimeError("QEMU did not write its pid file")
    return pid


def kill(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL ``pid`` and wait until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.02)


def blockdev(node: str, path: str, fmt: str, read_only: bool = False) -> str:
    """A ``-blockdev`` JSON argument: a format node over a file or host device."""
    protocol = "host_device" if path.startswith("/dev/") else "file"
    spec = {
        "driver": fmt,
        "node-name": node,
        "read-only": read_only,
        "file": {"driver": protocol, "filename": path, "read-only": read_only},
    }
    return json.dumps(spec, separators=(",", ":"))


# -- cgroups: account each VM's memory and CPU under onestack's own cgroup ------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "cpu,cpuacct", "pids")


def _own_cgroup(controller: str) -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(",") or names == controller:
            return path
    return None


def cgroup_dirs(name: str) -> list[Path]:
    """The VM's cgroup directory in every v1 hierarchy onestack can use here."""
    found = []
    for controller in CONTROLLERS:
        mount = CGROUP_ROOT / controller
        own = _own_cgroup(controller.split(",")[0])
        if own is None or not mount.is_dir():
            continue
        found.append(mount / own.lstrip("/") / name)
    return found


def join_cgroups(name: str, pid: int) -> None:
    """Move QEMU (every thread) into ``name``.

    QEMU joins right after its start, before the guest has touched its memory,
    so nearly all of it is charged to the VM's cgroup (moving charges along is
    deprecated in cgroup v1 and not asked for).
    """
    for directory in cgroup_dirs(name):
        try:
            directory.mkdir(exist_ok=True)
            (directory / "cgroup.procs").write_text(str(pid))
        except OSError as exc:
            LOG.warning("cannot put QEMU %s into cgroup %s: %s", pid, directory, exc)


def remove_cgroups(name: str) -> None:
    for directory in cgroup_dirs(name):
        deadline = time.monotonic() + 5
        while directory.is_dir():
            try:
                directory.rmdir()
            except OSError as exc:  # busy while the last task is still exiting
                if time.monotonic() > deadline:
                    LOG.warning("cannot remove cgroup %s: %s", directory, exc)
                    break
                time.sleep(0.02)


def memory_usage(name: str) -> int | None:
    """Bytes charged to the VM's memory cgroup (None without one)."""
    for directory in cgroup_dirs(name):
        usage = directory / "memory.usage_in_bytes"
        if usage.exists():
            try:
                return int(usage.read_text())
            except (OSError, ValueError):
                return None
    return None
