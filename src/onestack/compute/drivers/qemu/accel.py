"""KVM or TCG: the setting, else a probe whose result is kept per machine.

The probe boots the onestack-vm kernel with a tiny initramfs under KVM (see
``process.probe_accelerator``); its result is cached in the shared cache
directory, keyed by the host's kernel and QEMU's version, so that later
starts (and other clouds on the machine) decide at once.  While a probe
runs, guests start on TCG; the driver logs the outcome.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from onestack.compute.drivers.qemu.process import Accelerator, probe_accelerator
from onestack.guests import vm as vm_image

LOG = logging.getLogger(__name__)


def _cache_file() -> Path:
    return vm_image.cache_dir() / "accelerator.json"


def _key(version: tuple[int, int, int]) -> str:
    return f"{os.uname().release} qemu {'.'.join(map(str, version))}"


class AcceleratorChoice:
    def __init__(self, setting: str, binary: str, version: tuple[int, int, int]) -> None:
        self._lock = threading.Lock()
        self._binary = binary
        self._key = _key(version)
        if setting in ("kvm", "tcg"):
            self._chosen = Accelerator(setting, f"set by [compute] qemu_accel = {setting}")
            return
        cached = self._read_cache()
        if cached is not None:
            self._chosen = cached
            self._say()
            return
        self._chosen = Accelerator("tcg", "the KVM probe is still running: guests run on TCG")
        if not os.path.exists("/dev/kvm"):
            self._chosen = probe_accelerator(binary, None, None)
            self._say()
            return
        threading.Thread(target=self._probe, name="kvm probe", daemon=True).start()

    def current(self) -> Accelerator:
        with self._lock:
            return self._chosen

    def _say(self) -> None:
        chosen = self._chosen
        if chosen.name == "kvm":
            LOG.info("compute: virtual machines use KVM (%s)", chosen.reason)
        else:
            LOG.warning(
                "compute: KVM is unavailable, virtual machines run on TCG: %s", chosen.reason
            )

    def _read_cache(self) -> Accelerator | None:
        try:
            data = json.loads(_cache_file().read_text())
        except (OSError, ValueError):
            return None
        if data.get("key") != self._key or data.get("name") not in ("kvm", "tcg"):
            return None
        return Accelerator(str(data["name"]), f"{data.get('reason', '')} (probed before)")

    def _probe(self) -> None:
        result = probe_and_record(self._binary, self._key)
        with self._lock:
            self._chosen = result
        self._say()


def probe_and_record(binary: str, key: str) -> Accelerator:
    """Run the KVM probe with the onestack-vm kernel and keep its result for this machine."""
    image = vm_image.cached_image()
    kernel = vm_image.probe_kernel(image)
    result = probe_accelerator(binary, kernel, vm_image.probe_initrd(image))
    if kernel.is_file():  # a probe without a guest proves nothing: do not keep it
        try:
            path = _cache_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"key": key, "name": result.name, "reason": result.reason}))
        except OSError as exc:
            LOG.warning("cannot record the KVM probe's result: %s", exc)
    return result


def main() -> None:
    """``python -m onestack.compute.drivers.qemu.accel``: probe now (scripts/install)."""
    from onestack.compute.drivers.qemu.process import qemu_binary, qemu_version

    binary = qemu_binary()
    result = probe_and_record(binary, _key(qemu_version(binary)))
    print(f"virtual machines: {result.name} ({result.reason})")


if __name__ == "__main__":
    main()
