"""Image data: upload (``PUT /file``), staging and import, download.

An upload moves the image ``queued -> saving -> active``.  The bytes stream
through a :class:`~onestack.image.upload.DataSink` into a store writer (a
temporary file, fsynced and renamed on success).  Whatever goes wrong —
data that contradicts the declared size, hashes or ``disk_format``, a quota,
the client going away — the writer is aborted, no file is left behind and
the image goes back to ``queued``, so the client can simply retry.

The data goes to the store the client names (``X-Image-Meta-Store``) or to
the default store; each store that holds it is one ``image_locations`` row.
Staging (``PUT /stage``) does the same into the staging area and leaves the
image ``uploading``; ``POST /import`` (``imports.py``) then moves the staged
file into the stores.  Downloads read from any store that holds the data
(``reader.py``), checked against the hash recorded at upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, ServiceUnavailable
from onestack.common.faults import FaultKind
from onestack.common.quota import UNLIMITED
from onestack.image import states
from onestack.image.core import ImageCore, mib
from onestack.image.exceptions import ImageGone, InvalidStatus, LimitExceeded
from onestack.image.interface import DataLocation
from onestack.image.models import Image, ImageLocation, ImageTask
from onestack.image.reader import DataCopies, ImageReader
from onestack.image.store import FilesystemStore, ImageStore, StoreWriter
from onestack.image.upload import (
    DECLARED_MD5,
    DECLARED_SHA256,
    HASH_ALGO,
    DataSink,
    Expectations,
)

CHUNK = 4 << 20


@dataclass
class Transfer:
    """One upload or staging in flight."""

    image_id: str
    owner: str | None
    staged: bool
    disk_format: str | None
    container_format: str | None
    writer: StoreWriter
    sink: DataSink
    #: the store the data goes to (the staging area for a stage)
    store: ImageStore


def _declared(image: Image, names: tuple[str, ...]) -> str | None:
    for prop in image.properties:
        if prop.name in names and prop.value:
            return prop.value
    return None


def data_copies(image: Image) -> DataCopies:
    return DataCopies(
        image.id,
        image.os_hash_algo,
        image.os_hash_value,
        tuple((loc.store, loc.url) for loc in image.locations),
    )


def record_data(image: Image, sink: DataSink, locations: list[tuple[str, str]]) -> None:
    """What an image's new data says of it, and where the data now lives."""
    image.checksum = sink.checksum
    image.os_hash_algo = HASH_ALGO
    image.os_hash_value = sink.hash_value
    image.size = sink.size
    image.locations = [ImageLocation(store=name, url=url) for name, url in locations]


class ImageDataManager:
    def __init__(self, core: ImageCore, reader: ImageReader) -> None:
        self.core = core
        self.reader = reader

    # -- upload and staging -------------------------------------------------

    def begin(
        self,
        ctx: RequestContext,
        image_id: str,
        size: int | None,
        *,
        staged: bool = False,
        store: str | None = None,
    ) -> Transfer:
        """Claim a queued image for an upload of ``size`` bytes (None: unknown) into
        ``store`` (None: the default store)."""
        core = self.core
        target = core.staging if staged else core.stores.get(store, for_upload=True)
        cap = core.settings.image_size_cap
        wanted = states.UPLOADING if staged else states.SAVING
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "stage_image" if staged else "upload_image", image)
            if image.status != states.QUEUED:
                raise InvalidStatus(current=image.status, wanted=wanted)
            if not image.disk_format or not image.container_format:
                raise BadRequest(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            if size is not None and size > cap:
                raise LimitExceeded(reason=f"Image exceeds the storage quota: {size} > {cap}.")
            resource = "image_stage_total" if staged else "image_size_total"
            limit, limit_reason = cap, f"The image is larger than the limit of {cap} bytes."
            if image.owner:
                deltas = {"image_count_uploading": 1}
                if size:
                    deltas[resource] = mib(size)
                core.quotas.check(session, image.owner, deltas)
                usage = core.quotas.usage(session, image.owner)[resource]
                if usage.limit != UNLIMITED:
                    room = max(usage.limit - usage.in_use, 0) << 20
                    if room < limit:
                        limit = room
                        limit_reason = f"The upload would exceed the {resource} quota."
            expect = Expectations(
                size=size,
                md5=_declared(image, DECLARED_MD5),
                sha256=_declared(image, DECLARED_SHA256),
                limit=limit,
                limit_reason=limit_reason,
            )
            image.status = wanted
            image.staged_size = None
            image.updated_at = utcnow()
            owner, disk_format, container_format = (
                image.owner,
                image.disk_format,
                image.container_format,
            )
        try:
            writer = target.writer(image_id)
        except BaseException:
            self._release(image_id, wanted)
            raise
        return Transfer(
            image_id,
            owner,
            staged,
            disk_format,
            container_format,
            writer,
            DataSink(writer, expect),
            target,
        )

    def _release(self, image_id: str, status: str) -> None:
        with self.core.db.writer() as session:
            image = session.get(Image, image_id)
            if image is not None and image.status == status and image.staged_size is None:
                image.status = states.QUEUED
                image.updated_at = utcnow()

    def abort(self, transfer: Transfer) -> None:
        """Forget a failed transfer: no data kept, the image back to queued."""
        transfer.writer.abort()
        self._release(transfer.image_id, states.UPLOADING if transfer.staged else states.SAVING)

    def finish(self, transfer: Transfer) -> None:
        """Verify and commit the data; the image becomes active (or stays staged)."""
        core = self.core
        sink = transfer.sink
        wanted = states.UPLOADING if transfer.staged else states.SAVING
        fault = core.faults.take(FaultKind.IMAGE_UPLOAD, transfer.owner)
        if fault is not None:
            # an injected store failure: no data kept, the image killed (as Glance's
            # upload ends when its store fails)
            transfer.writer.abort()
            with core.db.writer() as session:
                image = session.get(Image, transfer.image_id)
                if image is not None and image.status == wanted:
                    image.status = states.KILLED
                    image.updated_at = utcnow()
            raise ServiceUnavailable(fault.reason())
        try:
            virtual_size = sink.verify(transfer.disk_format, transfer.container_format)
            location = transfer.writer.commit()
        except BaseException:
            self.abort(transfer)
            raise
        try:
            with core.db.writer() as session:
                image = session.get(Image, transfer.image_id)
                if image is None:
                    raise ImageGone(image_id=transfer.image_id)
                if image.status != wanted:
                    raise Conflict(f"Image {image.id} changed to {image.status} during the upload.")
                if transfer.owner and not transfer.staged:
                    core.quotas.check(session, transfer.owner, {"image_size_total": mib(sink.size)})
                image.virtual_size = virtual_size
                if transfer.staged:
                    image.checksum = sink.checksum
                    image.os_hash_algo = HASH_ALGO
                    image.os_hash_value = sink.hash_value
                    image.location = location
                    image.staged_size = sink.size
                else:
                    record_data(image, sink, [(transfer.store.name, location)])
                    image.status = states.ACTIVE
                image.updated_at = utcnow()
        except BaseException:
            transfer.store.delete(location)
            self._release(transfer.image_id, wanted)
            raise

    def upload_file(
        self, ctx: RequestContext, image_id: str, path: Path, store: str | None = None
    ) -> None:
        """Upload a local file (the caller keeps it)."""
        transfer = self.begin(ctx, image_id, path.stat().st_size, store=store)
        try:
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK):
                    transfer.sink.write(chunk)
        except BaseException:
            self.abort(transfer)
            raise
        self.finish(transfer)

    def tasks(self, ctx: RequestContext, image_id: str) -> list[ImageTask]:
        """The image's import tasks, oldest first."""
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_image", image)
            return list(
                session.scalars(
                    select(ImageTask)
                    .where(ImageTask.image_id == image_id)
                    .order_by(ImageTask.created_at, ImageTask.id)
                )
            )

    # -- after a crash ----------------------------------------------------------

    def reconcile(self) -> int:
        """Uploads in flight go back to queued (imports to staged), temp files go.

        Returns how many uploads were reset.
        """
        core = self.core
        for store in core.stores.stores.values():
            if isinstance(store, FilesystemStore):
                store.clean_incoming()
        core.staging.clean_incoming()
        with core.db.writer() as session:
            rows = list(session.scalars(select(Image).where(Image.status == states.SAVING)))
            for image in rows:
                image.status = states.QUEUED
            for image in session.scalars(select(Image).where(Image.status == states.IMPORTING)):
                image.status = states.UPLOADING
        return len(rows)

    # -- download -------------------------------------------------------------

    def _copies(
        self, ctx: RequestContext, image_id: str, *, policy: bool
    ) -> tuple[Image, DataCopies]:
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            if policy:
                core.enforce(ctx, "download_image", image)
            return image, data_copies(image)

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        """A local file with the active image's checked bytes (for other services; no
        download policy).  A copy from a remote store stays cached until the image goes."""
        image, copies = self._copies(ctx, image_id, policy=False)
        if image.status != states.ACTIVE or not copies.copies:
            raise Conflict(f"Image {image_id} is {image.status}, not active; it has no data.")
        path, _ = self.reader.local_copy(copies, keep=True)
        return path

    def data_locations(self, ctx: RequestContext, image_id: str) -> list[DataLocation]:
        """The active image's copies (for other services; no download policy)."""
        image, copies = self._copies(ctx, image_id, policy=False)
        if image.status != states.ACTIVE:
            raise Conflict(f"Image {image_id} is {image.status}, not active; it has no data.")
        return [DataLocation(store, url) for store, url in copies.copies]

    def download(self, ctx: RequestContext, image_id: str) -> tuple[Image, Path | None, bool]:
        """The image, a local file with its checked data (None when it has no data
        yet) and whether that file is temporary (the caller deletes it once sent)."""
        image, copies = self._copies(ctx, image_id, policy=True)
        if image.status == states.DEACTIVATED and not ctx.is_admin:
            raise Forbidden(
                "The requested image has been deactivated. Image data download is forbidden."
            )
        if image.status not in states.HAS_DATA or not copies.copies:
            return image, None, False
        path, temporary = self.reader.local_copy(copies, keep=False)
        return image, path, temporary
