"""Open a tap device that lives in another network namespace, for QEMU to use by fd.

The network service creates each port's tap on the network's bridge inside
the network's namespace (``VifTap``).  QEMU itself stays in the host's
namespace: a short-lived thread enters the tap's namespace, opens
``/dev/net/tun`` and attaches to the tap by name (``TUNSETIFF``), and the
descriptor goes to QEMU (``-netdev tap,fd=N`` at start, QMP ``getfd`` for a
hot-plugged NIC).  A descriptor keeps working in whichever namespace its
holder runs, so one VM can have NICs on several networks.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import struct
import threading

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def open_tap(netns_path: str, device: str) -> int:
    """A descriptor attached to the tap ``device`` of the namespace at ``netns_path``."""
    result: dict[str, int | BaseException] = {}

    def worker() -> None:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(netns_path, os.O_RDONLY)
        try:
            _setns(target)
            try:
                tun = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
                try:
                    request = struct.pack(
                        "16sH22x", device.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
                    )
                    fcntl.ioctl(tun, TUNSETIFF, request)
                except BaseException:
                    os.close(tun)
                    raise
                result["fd"] = tun
            finally:
                _setns(own)
        except BaseException as exc:
            result["error"] = exc
        finally:
            os.close(own)
            os.close(target)

    thread = threading.Thread(target=worker, name=f"open tap {device}")
    thread.start()
    thread.join()
    error = result.get("error")
    if isinstance(error, BaseException):
        raise OSError(f"cannot open tap {device} in {netns_path}: {error}") from error
    fd = result["fd"]
    assert isinstance(fd, int)
    return fd
