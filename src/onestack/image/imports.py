"""``POST /v2/images/{id}/import``: Glance's interoperable image import.

Three methods, each recorded as an ``api_image_import`` task
(``GET /v2/images/{id}/tasks``):

- ``glance-direct``: the staged data (``PUT /stage``) goes into the stores.
- ``copy-image``: an active image's data is copied into more stores (admin, as
  Glance's default policy); a store that already holds it is Glance's 400.
- ``web-download``: the data is fetched from a URL whose host the operator
  allows (``image.web_download_allowed``; empty: the method is not offered).
  A URL outside them is Glance's 400 ("does not pass filtering").

The stores come from ``stores``, ``all_stores`` or the ``X-Image-Meta-Store``
header (else the default store); a store that is unknown or not enabled is
Glance's 409.  ``glance-direct`` answers its failure to the request, as
before; ``copy-image`` and ``web-download`` answer 202 and record a failure
in the task (the image is unchanged, or back to ``queued``), as Glance's
asynchronous import does.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, OneStackError
from onestack.image import states
from onestack.image.core import ImageCore, mib
from onestack.image.data import data_copies, record_data
from onestack.image.exceptions import AlreadyInStore, ImageGone, InvalidStatus
from onestack.image.models import Image, ImageLocation, ImageProperty, ImageTask
from onestack.image.reader import ImageReader
from onestack.image.store import FanOutWriter, ImageStore
from onestack.image.upload import DECLARED_MD5, DECLARED_SHA256, DataSink, Expectations

LOG = logging.getLogger(__name__)

GLANCE_DIRECT = "glance-direct"
WEB_DOWNLOAD = "web-download"
COPY_IMAGE = "copy-image"
CHUNK = 4 << 20
#: the stores an import with all_stores_must_succeed=false could not write
FAILED_IMPORT = "os_glance_failed_import"
#: the stores an import is still writing ("" once it is over)
IMPORTING = "os_glance_importing_to_stores"


def import_methods(allowed_hosts: list[str]) -> list[str]:
    """The import methods offered (``/v2/info/import``)."""
    methods = [GLANCE_DIRECT, COPY_IMAGE]
    if allowed_hosts:
        methods.append(WEB_DOWNLOAD)
    return methods


def _declared(image: Image, names: tuple[str, ...]) -> str | None:
    for prop in image.properties:
        if prop.name in names and prop.value:
            return prop.value
    return None


def _set_property(image: Image, name: str, value: str) -> None:
    for prop in image.properties:
        if prop.name == name:
            prop.value = value
            return
    image.properties.append(ImageProperty(name=name, value=value))


def _failed_stores(image: Image, failed: list[str]) -> None:
    """An import is over: Glance's ``os_glance_importing_to_stores`` is empty and
    ``os_glance_failed_import`` names the stores a partial import missed (a
    client waiting for a copy polls the first, then reads the second)."""
    names = [p.value for p in image.properties if p.name == FAILED_IMPORT]
    earlier = [n for n in (names[0].split(",") if names else []) if n]
    _set_property(image, FAILED_IMPORT, ",".join(dict.fromkeys([*earlier, *failed])))
    _set_property(image, IMPORTING, "")


def finish_task(
    session: Session,
    task_id: str,
    status: str,
    *,
    message: str = "",
    result: dict[str, Any] | None = None,
) -> None:
    task = session.get(ImageTask, task_id)
    if task is not None:
        task.status = status
        task.message = message
        task.result = result
        task.updated_at = utcnow()


class ImageImporter:
    def __init__(self, core: ImageCore, reader: ImageReader) -> None:
        self.core = core
        self.reader = reader

    @property
    def methods(self) -> list[str]:
        return import_methods(self.core.settings.web_download_allowed)

    # -- the request ------------------------------------------------------------

    def import_image(
        self, ctx: RequestContext, image_id: str, body: Any, header_store: str | None = None
    ) -> None:
        method = body.get("method") if isinstance(body, dict) else None
        name = method.get("name") if isinstance(method, dict) else None
        if not isinstance(name, str) or not isinstance(method, dict):
            raise BadRequest("The import request needs 'method': {'name': ...}.")
        if name not in self.methods:
            raise BadRequest(
                f"Import method {name} is not enabled; available: {', '.join(self.methods)}."
            )
        all_stores = body.get("all_stores", False)
        if not isinstance(all_stores, bool):
            raise BadRequest("all_stores must be a boolean.")
        must_succeed = body.get("all_stores_must_succeed", True)
        if not isinstance(must_succeed, bool):
            raise BadRequest("all_stores_must_succeed must be a boolean.")
        targets = self._targets(body.get("stores"), all_stores, header_store)
        if name == GLANCE_DIRECT:
            self._glance_direct(ctx, image_id, body, targets, must_succeed)
        elif name == COPY_IMAGE:
            self._copy_image(ctx, image_id, body, targets, all_stores, must_succeed)
        else:
            self._web_download(ctx, image_id, body, method.get("uri"), targets, must_succeed)

    def _targets(self, stores: Any, all_stores: bool, header_store: str | None) -> list[ImageStore]:
        core = self.core
        if stores is not None and (
            not isinstance(stores, list) or not all(isinstance(s, str) for s in stores)
        ):
            raise BadRequest("stores must be a list of store identifiers.")
        if all_stores and (stores or header_store):
            raise BadRequest(
                "All_stores parameter can't be used with x-image-meta-store header "
                "or stores parameter"
            )
        if all_stores:
            names = core.stores.names
        elif stores:
            names = list(dict.fromkeys(stores))
        elif header_store:
            names = [header_store]
        else:
            names = [core.stores.default]
        return [core.stores.get(n) for n in names]

    def _task(
        self, session: Session, ctx: RequestContext, image_id: str, body: Any, stores: list[str]
    ) -> str:
        task_id = str(uuid.uuid4())
        session.add(
            ImageTask(
                id=task_id,
                image_id=image_id,
                type="api_image_import",
                status="processing",
                owner=ctx.project_id,
                user_id=ctx.user_id,
                request_id=ctx.request_id,
                input={"image_id": image_id, "import_req": body, "backend": stores},
            )
        )
        return task_id

    def _fail(self, task_id: str, image_id: str, exc: BaseException, back_to: str | None) -> None:
        with self.core.db.writer() as session:
            row = session.get(Image, image_id)
            if back_to is not None and row is not None and row.status == states.IMPORTING:
                row.status = back_to
                row.updated_at = utcnow()
            finish_task(session, task_id, "failure", message=str(exc))

    # -- glance-direct ------------------------------------------------------------

    def _glance_direct(
        self,
        ctx: RequestContext,
        image_id: str,
        body: Any,
        targets: list[ImageStore],
        must_succeed: bool,
    ) -> None:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "import_image", image)
            if image.status != states.UPLOADING or image.staged_size is None or not image.location:
                raise Conflict(
                    f"Image {image_id} has no staged data to import (status {image.status})."
                )
            if image.owner:
                core.quotas.check(
                    session, image.owner, {"image_size_total": mib(image.staged_size)}
                )
            image.status = states.IMPORTING
            staged_location, size = image.location, image.staged_size
            task_id = self._task(session, ctx, image_id, body, [t.name for t in targets])
        staged = core.staging.local_path(staged_location)
        written: list[tuple[str, str]] = []
        failed: list[str] = []
        try:
            # every store but the last gets a copy; the last takes the staged file over
            for store in targets:
                last = store is targets[-1]
                source = staged if last else staged.with_name(f"{staged.name}.{store.name}")
                try:
                    if not last:
                        shutil.copyfile(staged, source)
                    written.append((store.name, store.adopt(image_id, source)))
                except Exception:
                    if must_succeed or (last and not written):
                        raise
                    LOG.exception("image %s: the import into %s failed", image_id, store.name)
                    if not last:
                        source.unlink(missing_ok=True)
                    failed.append(store.name)
            staged.unlink(missing_ok=True)
        except BaseException as exc:
            core.delete_data(None, written)
            self._fail(task_id, image_id, exc, states.UPLOADING)
            raise
        with core.db.writer() as session:
            done = session.get(Image, image_id)
            if done is None:
                core.delete_data(None, written)
                raise ImageGone(image_id=image_id)
            done.locations = [ImageLocation(store=n, url=u) for n, u in written]
            _failed_stores(done, failed)
            done.location = None
            done.size = size
            done.staged_size = None
            done.status = states.ACTIVE
            done.updated_at = utcnow()
            finish_task(session, task_id, "success", result={"image_id": image_id})

    # -- copy-image ---------------------------------------------------------------

    def _copy_image(
        self,
        ctx: RequestContext,
        image_id: str,
        body: Any,
        targets: list[ImageStore],
        all_stores: bool,
        must_succeed: bool,
    ) -> None:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "copy_image", image)
            if image.status != states.ACTIVE:
                raise Conflict(
                    f"Image {image_id} is {image.status}; only an active image is copied."
                )
            held = {loc.store for loc in image.locations}
            wanted = [t for t in targets if t.name not in held]
            if not all_stores:
                for target in targets:
                    if target.name in held:
                        raise AlreadyInStore(store=target.name)
            if not wanted:
                raise AlreadyInStore(store=",".join(sorted(held)))
            copies = data_copies(image)
            task_id = self._task(session, ctx, image_id, body, [t.name for t in wanted])
        try:
            source, temporary = self.reader.local_copy(copies, keep=False)
            try:
                writer = FanOutWriter(wanted, image_id, must_succeed)
                try:
                    with open(source, "rb") as handle:
                        while chunk := handle.read(CHUNK):
                            writer.write(chunk)
                    writer.commit()
                except BaseException:
                    writer.abort()
                    raise
            finally:
                if temporary:
                    source.unlink(missing_ok=True)
        except (OneStackError, OSError) as exc:
            LOG.warning("image %s: copy-image failed: %s", image_id, exc)
            self._fail(task_id, image_id, exc, None)
            return
        with core.db.writer() as session:
            done = session.get(Image, image_id)
            if done is None or done.status not in states.HAS_DATA:
                core.delete_data(None, writer.locations)
                finish_task(session, task_id, "failure", message="The image went away.")
                return
            for name, url in writer.locations:
                done.locations.append(ImageLocation(store=name, url=url))
            _failed_stores(done, writer.failed)
            done.updated_at = utcnow()
            finish_task(session, task_id, "success", result={"image_id": image_id})

    # -- web-download --------------------------------------------------------------

    def _check_uri(self, uri: Any) -> str:
        allowed = self.core.settings.web_download_allowed
        if not isinstance(uri, str):
            raise BadRequest("web-download needs the 'uri' of the image data.")
        parts = urlsplit(uri)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not (
            host in allowed or f"{host}:{port}" in allowed
        ):
            raise BadRequest(f"URI for web-download does not pass filtering: {uri}")
        return uri

    def _web_download(
        self,
        ctx: RequestContext,
        image_id: str,
        body: Any,
        uri: Any,
        targets: list[ImageStore],
        must_succeed: bool,
    ) -> None:
        core = self.core
        url = self._check_uri(uri)
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "import_image", image)
            if image.status != states.QUEUED:
                raise InvalidStatus(current=image.status, wanted=states.IMPORTING)
            if not image.disk_format or not image.container_format:
                raise BadRequest(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            image.status = states.IMPORTING
            image.updated_at = utcnow()
            expect = Expectations(
                md5=_declared(image, DECLARED_MD5),
                sha256=_declared(image, DECLARED_SHA256),
                limit=core.settings.image_size_cap,
                limit_reason="The image is larger than the image size cap.",
            )
            formats = (image.disk_format, image.container_format)
            owner = image.owner
            task_id = self._task(session, ctx, image_id, body, [t.name for t in targets])
        writer: FanOutWriter | None = None
        try:
            writer = FanOutWriter(targets, image_id, must_succeed)
            sink = DataSink(writer, expect)
            with (
                httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0)) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise BadRequest(f"{url} answered HTTP {response.status_code}.")
                for chunk in response.iter_bytes(CHUNK):
                    sink.write(chunk)
            virtual_size = sink.verify(*formats)
            writer.commit()
        except (OneStackError, OSError, httpx.HTTPError) as exc:
            if writer is not None:
                writer.abort()
            LOG.warning("image %s: web-download of %s failed: %s", image_id, url, exc)
            self._fail(task_id, image_id, exc, states.QUEUED)
            return
        with core.db.writer() as session:
            done = session.get(Image, image_id)
            if done is None or done.status != states.IMPORTING:
                core.delete_data(None, writer.locations)
                finish_task(session, task_id, "failure", message="The image went away.")
                return
            if owner:
                try:
                    core.quotas.check(session, owner, {"image_size_total": mib(sink.size)})
                except OneStackError as exc:
                    core.delete_data(None, writer.locations)
                    done.status = states.QUEUED
                    finish_task(session, task_id, "failure", message=str(exc))
                    return
            record_data(done, sink, writer.locations)
            _failed_stores(done, writer.failed)
            done.virtual_size = virtual_size
            done.status = states.ACTIVE
            done.updated_at = utcnow()
            finish_task(session, task_id, "success", result={"image_id": image_id})
