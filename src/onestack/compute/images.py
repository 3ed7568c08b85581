"""Images as a compute host sees them: through the image API, cached per host.

:class:`ImageClient` is what an agent needs of the image service: an
image's record, its bytes, and a new image from an instance's disk.
:class:`HTTPImageClient` does that over the Image API v2 as the compute
service user (``GET /v2/images/{id}``, ``GET /v2/images/{id}/file``,
``POST /v2/images`` + ``PUT /v2/images/{id}/file``), so an agent on any host
reads no file of the control plane.

:class:`ImageCache` keeps each image's bytes once per host
(``<work dir>/images/<image id>``), downloaded to a temporary name, checked
against the image's MD5 ``checksum`` and its size, and renamed into place:
a file in the cache is always complete.
Glance never changes the bytes of an active image, so an entry never goes
stale; ``prune`` removes entries no instance of the host uses that were not
used for ``max_age`` seconds (Nova's image cache manager).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from onestack.common.exceptions import OneStackError
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.compute.exceptions import ImageDataInvalid
from onestack.image.interface import ImageRecord

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
#: Glance's top-level image fields; every other string field is a property
_CORE_FIELDS = frozenset(
    {
        "id", "name", "status", "disk_format", "container_format", "size", "virtual_size",
        "min_disk", "min_ram", "owner", "visibility", "protected", "checksum",
        "os_hash_algo", "os_hash_value", "created_at", "updated_at", "tags", "self", "file",
        "schema", "direct_url", "locations", "os_hidden", "stores",
    }
)  # fmt: skip


class ImageClient(Protocol):
    def get_image(self, image_id: str) -> ImageRecord:
        """The image's record (NotFound when it is gone)."""
        ...

    def download(self, image: ImageRecord, target: Path) -> None:
        """Write the image's bytes to ``target``, checked against its checksum and size
        (ImageDataInvalid otherwise; ``target`` may then hold partial data)."""
        ...

    def create_image(
        self,
        path: Path,
        *,
        name: str,
        owner: str,
        properties: dict[str, str],
        min_disk: int,
        disk_format: str = "raw",
        container_format: str = "bare",
        min_ram: int = 0,
    ) -> str:
        """A new private image of project ``owner`` with the bytes of ``path``; its id.
        On failure no image is left behind."""
        ...

    def delete_image(self, image_id: str) -> None:
        """Delete the image (a shelved instance's, once unshelved); NotFound when gone."""
        ...


def image_record(data: dict[str, Any]) -> ImageRecord:
    """An ImageRecord from Glance's JSON image."""
    return ImageRecord(
        id=str(data["id"]),
        name=data.get("name"),
        status=str(data.get("status", "")),
        disk_format=data.get("disk_format"),
        container_format=data.get("container_format"),
        size=data.get("size"),
        min_disk=int(data.get("min_disk") or 0),
        min_ram=int(data.get("min_ram") or 0),
        owner=data.get("owner"),
        visibility=str(data.get("visibility", "")),
        protected=bool(data.get("protected")),
        checksum=data.get("checksum"),
        properties={
            k: str(v)
            for k, v in data.items()
            if k not in _CORE_FIELDS and isinstance(v, str | int | float | bool)
        },
    )


class HTTPImageClient:
    """:class:`ImageClient` over the Image API v2; see the module docstring."""

    def __init__(self, session: KeystoneSession) -> None:
        self.session = session

    @contextmanager
    def _answer(
        self,
        method: str,
        path: str,
        what: str,
        content: bytes | IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """The streamed 2xx answer; an error answer is onestack's exception of its status."""
        try:
            with self.session.stream(
                "image", method, path, content=content, headers=headers
            ) as answer:
                yield answer
        except ServiceError as exc:
            raise exc.as_error(what) from None

    def get_image(self, image_id: str) -> ImageRecord:
        with self._answer("GET", f"/v2/images/{image_id}", f"image {image_id}") as answer:
            return image_record(json.loads(answer.read()))

    def download(self, image: ImageRecord, target: Path) -> None:
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        what = f"the data of image {image.id}"
        with self._answer("GET", f"/v2/images/{image.id}/file", what) as raw:
            with open(target, "wb") as out:
                for chunk in raw.iter_bytes(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
                    digest.update(chunk)
                out.flush()
                os.fsync(out.fileno())
        if image.size is not None and size != image.size:
            raise ImageDataInvalid(
                image_id=image.id, reason=f"{size} bytes arrived instead of {image.size}"
            )
        if image.checksum and digest.hexdigest() != image.checksum:
            raise ImageDataInvalid(image_id=image.id, reason="its MD5 checksum differs")

    def create_image(
        self,
        path: Path,
        *,
        name: str,
        owner: str,
        properties: dict[str, str],
        min_disk: int,
        disk_format: str = "raw",
        container_format: str = "bare",
        min_ram: int = 0,
    ) -> str:
        body = {
            **properties,
            "name": name,
            "disk_format": disk_format,
            "container_format": container_format,
            "visibility": "private",
            "min_disk": min_disk,
            "min_ram": min_ram,
            "owner": owner,
        }
        with self._answer(
            "POST",
            "/v2/images",
            f"creating image {name}",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        ) as answer:
            image_id = str(json.loads(answer.read())["id"])
        try:
            with open(path, "rb") as data:
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(path.stat().st_size),
                }
                with self._answer(
                    "PUT",
                    f"/v2/images/{image_id}/file",
                    f"uploading image {image_id}",
                    content=data,
                    headers=headers,
                ):
                    pass
        except BaseException:
            self._delete(image_id)
            raise
        return image_id

    def delete_image(self, image_id: str) -> None:
        with self._answer("DELETE", f"/v2/images/{image_id}", f"deleting image {image_id}"):
            pass

    def _delete(self, image_id: str) -> None:
        try:
            with self._answer("DELETE", f"/v2/images/{image_id}", f"deleting image {image_id}"):
                pass
        except OneStackError:
            LOG.exception("could not delete the unfinished image %s", image_id)


class ImageCache:
    """Image files of one host; see the module docstring."""

    def __init__(self, directory: Path, images: ImageClient) -> None:
        self.directory = directory
        self.images = images
        directory.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, image_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(image_id, threading.Lock())

    def _file(self, image_id: str) -> Path:
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise ImageDataInvalid(image_id=image_id, reason="not a valid image id")
        return self.directory / image_id

    def cached(self, image_id: str) -> Path | None:
        """The cached file of ``image_id`` when this host has it (no download)."""
        path = self._file(image_id)
        return path if path.is_file() else None

    def fetch(self, image: ImageRecord) -> Path:
        """The image's file on this host, downloaded once."""
        path = self._file(image.id)
        with self._lock(image.id):
            if path.is_file():
                path.touch()  # used now: kept by prune
                return path
            partial = path.with_name(f".{image.id}.{uuid.uuid4().hex}.part")
            try:
                started = time.monotonic()
                self.images.download(image, partial)
                partial.replace(path)
                LOG.info(
                    "image %s cached on this host (%s bytes in %.2fs)",
                    image.id,
                    image.size,
                    time.monotonic() - started,
                )
            finally:
                partial.unlink(missing_ok=True)
        return path

    def prune(self, in_use: Iterable[str], max_age: float) -> list[str]:
        """Remove cached images not in ``in_use`` and unused for ``max_age`` seconds
        (and downloads a crash left unfinished as long); the names removed."""
        keep = set(in_use)
        now = time.time()
        removed = []
        for path in self.directory.iterdir():
            if path.name in keep:
                continue
            with self._lock(path.name):
                try:
                    if now - path.stat().st_mtime < max_age:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
            removed.append(path.name)
        return removed
