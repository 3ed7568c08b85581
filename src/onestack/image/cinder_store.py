"""The ``cinder`` store: an image's bytes in a volume, as Glance's cinder store keeps them.

The image service's user (``glance``, in the ``service`` project) owns one
volume per image, named ``image-<image id>`` with the metadata Glance's
cinder store sets (``glance_image_id``, ``image_size``, ``image_owner``).
It reaches the volume through the Block Storage API
(``onestack.common.keystone_client``) exactly as Glance does through
cinderclient and os-brick: it creates the volume, attaches it to this host
with an attachment and a connector (Cinder 3.27 attachments; the answer's
``device_path`` is a local block device), writes or reads the bytes there,
and deletes the attachment.  The location is ``cinder://<volume id>``.

The bytes of an upload are spooled to a local file first (a volume's size
must be known when it is created: the image size rounded up to GiB); after
a failure the volume is deleted.  Because the volume holds the image, the
volume service makes a volume from such an image by cloning it (copy-on-write
in the reflink pool) instead of copying the bytes.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from onestack.common.exceptions import NotFound
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.image.store import SPARSE_BLOCK, ImageStore, StoreWriter
from onestack.image.swift_store import StoreUnavailable

SCHEME = "cinder://"
GIB = 1 << 30
CHUNK = 4 << 20
ATTACHMENTS = {"OpenStack-API-Version": "volume 3.27"}
_ZEROS = bytes(SPARSE_BLOCK)


def volume_of(location: str) -> str | None:
    """The volume id of a ``cinder://`` location (None for another store's)."""
    if not location.startswith(SCHEME):
        return None
    return location[len(SCHEME) :].rsplit("/", 1)[-1] or None


class _VolumeReader(io.RawIOBase):
    """The first ``size`` bytes of an attached volume; closing detaches it."""

    def __init__(self, handle: BinaryIO, size: int, release: Callable[[], None]) -> None:
        self.handle = handle
        self.left = size
        self.release = release

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        want = min(len(buffer), self.left)
        data = self.handle.read(want)
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self.handle.close()
            finally:
                self.release()
        super().close()


class _CinderWriter(StoreWriter):
    def __init__(self, store: CinderStore, key: str) -> None:
        self.store = store
        self.key = key
        self.spool_path = store.spool / f"{key}.{uuid.uuid4().hex[:8]}.cinder"
        self.spool: BinaryIO | None = open(self.spool_path, "w+b")  # noqa: SIM115 (closed in commit/abort)
        self.size = 0
        self.volume_id: str | None = None

    def write(self, chunk: bytes) -> None:
        assert self.spool is not None, "writer already closed"
        self.spool.write(chunk)
        self.size += len(chunk)

    def commit(self) -> str:
        assert self.spool is not None, "writer already closed"
        self.spool.flush()
        store = self.store
        self.volume_id = store.create_volume(self.key, self.size)
        with store.attached(self.volume_id) as device, open(device, "r+b") as target:
            self.spool.seek(0)
            while chunk := self.spool.read(CHUNK):
                # a new volume reads as zeros: blocks of zeros need no write
                for start in range(0, len(chunk), SPARSE_BLOCK):
                    block = chunk[start : start + SPARSE_BLOCK]
                    if block == _ZEROS[: len(block)]:
                        target.seek(len(block), os.SEEK_CUR)
                    else:
                        target.write(block)
            target.flush()
            os.fsync(target.fileno())
        self._close_spool()
        return f"{SCHEME}{self.volume_id}"

    def _close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        self.spool_path.unlink(missing_ok=True)

    def abort(self) -> None:
        self._close_spool()
        if self.volume_id is not None:
            self.store.delete_volume(self.volume_id)
            self.volume_id = None


class _Attachment:
    def __init__(self, store: CinderStore, volume_id: str) -> None:
        self.store = store
        self.volume_id = volume_id
        self.attachment_id: str | None = None

    def __enter__(self) -> str:
        device, self.attachment_id = self.store.attach(self.volume_id)
        return device

    def __exit__(self, *exc: object) -> None:
        if self.attachment_id is not None:
            self.store.detach(self.attachment_id)


class CinderStore(ImageStore):
    """Images as volumes of the image service's own project."""

    name = "cinder"
    type = "cinder"

    def __init__(
        self,
        session: Callable[[], KeystoneSession],
        spool: Path,
        host: str,
        timeout: float = 600.0,
        description: str = "",
    ) -> None:
        self._session_factory = session
        self._session: KeystoneSession | None = None
        self.spool = spool
        self.spool.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.timeout = timeout
        self.description = description or "Volumes of the block storage service (Cinder)"

    @property
    def session(self) -> KeystoneSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 202, 204),
    ) -> Any:
        try:
            return self.session.request("volume", method, path, json=json, headers=headers, ok=ok)
        except ServiceError as exc:
            if exc.status == 404:
                raise NotFound(f"Volume {path} of the cinder store: {exc.message}") from None
            raise StoreUnavailable(store=self.name, reason=exc.message) from None

    # -- volumes -------------------------------------------------------------------

    def create_volume(self, image_id: str, size: int) -> str:
        """A new available volume of ``size`` bytes (rounded up to GiB) for the image."""
        body = {
            "volume": {
                "size": max(1, -(-size // GIB)),
                "name": f"image-{image_id}",
                "metadata": {"glance_image_id": image_id, "image_size": str(size)},
            }
        }
        volume_id = str(self._call("POST", "/volumes", json=body)["volume"]["id"])
        try:
            self._wait(volume_id, "available")
        except BaseException:
            self.delete_volume(volume_id)
            raise
        return volume_id

    def _wait(self, volume_id: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            volume = self._call("GET", f"/volumes/{volume_id}")["volume"]
            if volume["status"] == status:
                return dict(volume)
            if volume["status"].startswith("error") or time.monotonic() > deadline:
                raise StoreUnavailable(
                    store=self.name, reason=f"volume {volume_id} is {volume['status']}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def delete_volume(self, volume_id: str) -> None:
        try:
            self._call("DELETE", f"/volumes/{volume_id}")
        except NotFound:
            pass

    def attach(self, volume_id: str) -> tuple[str, str]:
        """Attach the volume to this host: its local device and the attachment's id."""
        body = {
            "attachment": {
                "volume_uuid": volume_id,
                "instance_uuid": None,
                "connector": {"host": self.host, "initiator": "glance", "multipath": False},
            }
        }
        answer = self._call("POST", "/attachments", json=body, headers=ATTACHMENTS)["attachment"]
        device = ((answer.get("connection_info") or {}).get("data") or {}).get("device_path")
        if not device:
            self.detach(str(answer["id"]))
            raise StoreUnavailable(store=self.name, reason=f"volume {volume_id} has no device")
        return str(device), str(answer["id"])

    def detach(self, attachment_id: str) -> None:
        try:
            self._call("DELETE", f"/attachments/{attachment_id}", headers=ATTACHMENTS)
        except NotFound:
            pass

    def attached(self, volume_id: str) -> _Attachment:
        return _Attachment(self, volume_id)

    # -- the store -------------------------------------------------------------------

    def _volume_id(self, location: str) -> str:
        volume_id = volume_of(location)
        if volume_id is None:
            raise NotFound(f"Location {location} is not in the {self.name} store.")
        return volume_id

    def writer(self, key: str) -> StoreWriter:
        return _CinderWriter(self, key)

    def open(self, location: str) -> BinaryIO:
        volume_id = self._volume_id(location)
        volume = self._call("GET", f"/volumes/{volume_id}")["volume"]
        size = int((volume.get("metadata") or {}).get("image_size") or volume["size"] * GIB)
        device, attachment_id = self.attach(volume_id)
        try:
            handle = open(device, "rb")  # noqa: SIM115 (closed by the reader)
        except BaseException:
            self.detach(attachment_id)
            raise
        reader = _VolumeReader(handle, size, lambda: self.detach(attachment_id))
        return io.BufferedReader(reader, CHUNK)

    def delete(self, location: str) -> None:
        volume_id = volume_of(location)
        if volume_id is not None:
            self.delete_volume(volume_id)

    def properties(self) -> dict[str, object]:
        return {"volume_name_template": "image-<image id>"}
