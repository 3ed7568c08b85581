"""Reading an image's data back from whichever store holds it, checked by its hash.

An active image has one or more copies (``image_locations``: a store and a
URL).  :meth:`ImageReader.local_copy` answers a local file with the image's
bytes, checked against the ``os_hash_value`` recorded at upload: a
filesystem store's own file, else a copy fetched from a remote store
(object storage: the ring's fallover already hides a missing replica).  A
copy whose hash differs is skipped (and logged) for the next store; when
every copy is corrupt the answer is :class:`~onestack.image.exceptions.
ImageCorrupt`, so bad bytes are never served.

Hashing a large file costs time, so a local file's check is remembered
against its inode, size and change times: a file that changed since it was
checked is checked again.  A copy fetched for another service (``keep``:
the volume service reads ``data_path``) stays in ``<images>/cache/<id>``
until the image is deleted or leaves that store; a copy fetched for one
download is the caller's to delete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from onestack.common.exceptions import NotFound, ServiceUnavailable
from onestack.image.core import ImageCore
from onestack.image.exceptions import ImageCorrupt

LOG = logging.getLogger(__name__)
CHUNK = 4 << 20


@dataclass(frozen=True)
class DataCopies:
    """What is needed to read an image's data: its hash and its copies, in order."""

    image_id: str
    algo: str | None
    expected: str | None
    copies: tuple[tuple[str, str], ...]  # (store, url)


class NoDataCopy(ServiceUnavailable):
    msg_fmt = "No store holding the data of image {image_id} could be read."


def _digest(path: Path, algo: str) -> str:
    digest = hashlib.new(algo)
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ImageReader:
    def __init__(self, core: ImageCore, cache: Path) -> None:
        self.core = core
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self._checked: dict[Path, tuple[tuple[int, int, int, int], str]] = {}
        self._lock = threading.Lock()

    def _matches(self, path: Path, data: DataCopies) -> tuple[bool, str]:
        """Whether ``path`` holds the image's bytes (and the hash it has)."""
        if not data.algo or not data.expected:
            return True, ""
        stamp = _stamp(path)
        with self._lock:
            known = self._checked.get(path)
        if known is not None and known[0] == stamp:
            actual = known[1]
        else:
            actual = _digest(path, data.algo)
            with self._lock:
                self._checked[path] = (stamp, actual)
        return actual == data.expected, actual

    def _fetch(self, data: DataCopies, name: str, url: str) -> tuple[Path, str] | None:
        """The store's bytes in a temporary file, with their hash (None: unreadable)."""
        store = self.core.store_named(name)
        if store is None:
            return None
        temp = self.core.staging.incoming / f"{data.image_id}.{uuid.uuid4().hex[:8]}.read"
        digest = hashlib.new(data.algo or "sha512")
        try:
            with store.open(url) as source, open(temp, "xb") as target:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
        except (NotFound, ServiceUnavailable, OSError) as exc:
            LOG.warning("image %s: the %s store could not be read: %s", data.image_id, name, exc)
            temp.unlink(missing_ok=True)
            return None
        return temp, digest.hexdigest()

    def local_copy(self, data: DataCopies, *, keep: bool) -> tuple[Path, bool]:
        """A local file with the image's checked bytes, and whether it is temporary
        (the caller then deletes it).  ``keep``: a fetched copy stays in the cache."""
        corrupt: str | None = None
        cached = self.cache / data.image_id
        # local files first, volumes (which must be attached to be read) last
        rank = {"file": 0, "swift": 1}
        ordered = sorted(data.copies, key=lambda c: rank.get(c[0], 2))
        for name, url in ordered:
            store = self.core.store_named(name)
            if store is None:
                continue
            try:
                local = store.local_path(url)
            except NotFound:
                LOG.warning("image %s: its data is missing from the %s store", data.image_id, name)
                continue
            if local is None and keep and cached.is_file():
                local = cached
            if local is not None:
                good, actual = self._matches(local, data)
                if good:
                    return local, False
                LOG.error("image %s: the copy in %s has hash %s", data.image_id, name, actual)
                corrupt = actual
                if local == cached:
                    self.forget(data.image_id)
                else:
                    continue
            fetched = self._fetch(data, name, url)
            if fetched is None:
                continue
            temp, actual = fetched
            if data.expected and actual != data.expected:
                LOG.error("image %s: the copy in %s has hash %s", data.image_id, name, actual)
                corrupt = actual
                temp.unlink(missing_ok=True)
                continue
            if not keep:
                return temp, True
            os.replace(temp, cached)
            with self._lock:
                self._checked[cached] = (_stamp(cached), actual)
            return cached, False
        if corrupt is not None:
            raise ImageCorrupt(actual=corrupt, expected=data.expected)
        raise NoDataCopy(image_id=data.image_id)

    def forget(self, image_id: str) -> None:
        """Drop the cached copy of an image (deleted, or gone from a store)."""
        cached = self.cache / image_id
        with self._lock:
            self._checked.pop(cached, None)
        cached.unlink(missing_ok=True)
