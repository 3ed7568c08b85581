"""Where the proxy finds each ring device: on a storage node or on this machine's disk."""

from __future__ import annotations

from pathlib import Path

from onestack.object.backend import ObjectDevice
from onestack.object.backends.disk import DiskDevices
from onestack.object.backends.remote import RemoteDevice
from onestack.object.ring import RING_FILE, RingHolder


class RingDevices:
    """The ring's devices as the proxy reaches them: a device with an ``address`` on its
    storage node over HTTP, any other on this machine's disk under ``root``."""

    def __init__(self, root: Path) -> None:
        self.local = DiskDevices(root)
        self.rings = RingHolder(root / RING_FILE)
        self._remote: dict[tuple[str, str], RemoteDevice] = {}

    def __call__(self, name: str) -> ObjectDevice:
        address = ""
        if self.rings.path.exists():
            address = next((d.address for d in self.rings.get().devices if d.name == name), "")
        if not address:
            return self.local(name)
        key = (name, address)
        if key not in self._remote:
            self._remote[key] = RemoteDevice(name, address)
        return self._remote[key]
