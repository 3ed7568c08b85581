"""The image service's logic and its public Python interface (``ImageManager``).

Other services use only the methods of ``onestack.image.interface``
(``get_image``, ``data_path``, ``create_from_file``); the HTTP routes use the
rest.  Every method takes the request context; visibility (owner, public,
community, shared with a membership) is enforced in the queries, so a
project never sees another project's private image.  Data transfer lives in
``onestack.image.data``, listing in ``onestack.image.listing``, members and
tags in ``onestack.image.members``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden
from onestack.common.policy import Enforcer
from onestack.common.quota import QuotaEngine, QuotaResource
from onestack.image import states
from onestack.image.conf import ImageSettings
from onestack.image.exceptions import (
    DuplicateImage,
    ImageNotFound,
    ImageProtected,
    ImageQuotaExceeded,
    LimitExceeded,
    ReadOnlyAttribute,
    ReservedAttribute,
)
from onestack.image.interface import ImageRecord
from onestack.image.models import Image, ImageMember, ImageProperty, ImageTag
from onestack.image.store import FilesystemStore

MIB = 1 << 20

#: attributes every image has (the rest are extra properties)
CORE = (
    "id",
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "owner",
    "tags",
)
READ_ONLY = (
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "file",
    "self",
    "schema",
    "direct_url",
    "stores",
)
RESERVED = ("location", "locations", "deleted", "deleted_at")


def _mib(nbytes: int) -> int:
    return (nbytes + MIB - 1) // MIB


def _sum(session: Session, column: Any, project_id: str, *where: Any) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(column), 0)).where(Image.owner == project_id, *where)
    )
    return int(total or 0)


def _count(session: Session, project_id: str, *where: Any) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Image).where(Image.owner == project_id, *where)
        )
        or 0
    )


def quota_engine(settings: ImageSettings) -> QuotaEngine:
    busy = (states.SAVING, states.UPLOADING, states.IMPORTING)
    staged = (states.UPLOADING, states.IMPORTING)
    return QuotaEngine(
        "image",
        [
            QuotaResource("image_count_total", settings.image_count_total, _count),
            QuotaResource(
                "image_size_total",
                settings.image_size_total,
                lambda s, p: _mib(_sum(s, Image.size, p)),
            ),
            QuotaResource(
                "image_stage_total",
                settings.image_stage_total,
                lambda s, p: _mib(_sum(s, Image.staged_size, p, Image.status.in_(staged))),
            ),
            QuotaResource(
                "image_count_uploading",
                settings.image_count_uploading,
                lambda s, p: _count(s, p, Image.status.in_(busy)),
            ),
        ],
        exceeded=ImageQuotaExceeded,
    )


def to_record(image: Image) -> ImageRecord:
    return ImageRecord(
        id=image.id,
        name=image.name,
        status=image.status,
        disk_format=image.disk_format,
        container_format=image.container_format,
        size=image.size,
        min_disk=image.min_disk,
        min_ram=image.min_ram,
        owner=image.owner,
        visibility=image.visibility,
        protected=image.protected,
        checksum=image.checksum,
        properties={p.name: p.value for p in image.properties},
    )


def visible_clause(ctx: RequestContext) -> Any:
    """Rows ``ctx`` may see (any membership status counts for a direct look-up)."""
    member = exists().where(
        ImageMember.image_id == Image.id, ImageMember.member_id == ctx.project_id
    )
    return (
        (Image.owner == ctx.project_id)
        | Image.visibility.in_(("public", "community"))
        | ((Image.visibility == "shared") & member)
    )


class ImageManager:
    """Glance's logic.  ``cloud.services["image"]``."""

    def __init__(
        self, settings: ImageSettings, db: Database, enforcer: Enforcer, state_dir: Path
    ) -> None:
        from onestack.image.data import ImageDataManager
        from onestack.image.listing import ImageLister
        from onestack.image.members import MemberManager

        self.settings = settings
        self.db = db
        self.enforcer = enforcer
        self.store = FilesystemStore(state_dir / "images")
        self.staging = FilesystemStore(state_dir / "images" / "staging")
        self.quotas = quota_engine(settings)
        self.data = ImageDataManager(self)
        self.lister = ImageLister(self)
        self.members = MemberManager(self)

    # -- helpers the sub-managers share ------------------------------------

    def target(self, image: Image, **extra: Any) -> dict[str, Any]:
        return {
            "target": {"owner": image.owner, "visibility": image.visibility, **extra},
            "owner": image.owner,
            "project_id": image.owner,
        }

    def enforce(self, ctx: RequestContext, action: str, image: Image | None = None) -> None:
        target = self.target(image) if image is not None else {"target": {"owner": ctx.project_id}}
        self.enforcer.enforce(ctx, f"image:{action}", target)

    def load(self, session: Session, ctx: RequestContext, image_id: str) -> Image:
        """The image if ``ctx`` may see it; ImageNotFound otherwise."""
        stmt = select(Image).where(Image.id == image_id)
        if not ctx.is_admin:
            stmt = stmt.where(visible_clause(ctx))
        image = session.scalars(stmt).first()
        if image is None:
            raise ImageNotFound(image_id=image_id)
        return image

    def is_owner(self, ctx: RequestContext, image: Image) -> bool:
        return ctx.is_admin or (image.owner is not None and image.owner == ctx.project_id)

    def delete_data(self, location: str | None, staged: bool = False) -> None:
        if location:
            (self.staging if staged else self.store).delete(location)

    # -- the public interface (onestack.image.interface) -------------------

    def get_image(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        with self.db.reader() as session:
            return to_record(self.load(session, ctx, image_id))

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        with self.db.reader() as session:
            image = self.load(session, ctx, image_id)
            if image.status != states.ACTIVE or not image.location:
                raise Conflict(f"Image {image_id} is {image.status}, not active; it has no data.")
            location = image.location
        return self.store.local_path(location)

    def create_from_file(
        self,
        ctx: RequestContext,
        name: str,
        path: Path,
        *,
        disk_format: str,
        container_format: str,
        properties: dict[str, str] | None = None,
        visibility: str = "private",
        min_disk: int = 0,
        min_ram: int = 0,
    ) -> ImageRecord:
        data: dict[str, Any] = {
            "name": name,
            "disk_format": disk_format,
            "container_format": container_format,
            "visibility": visibility,
            "min_disk": min_disk,
            "min_ram": min_ram,
            **(properties or {}),
        }
        image = self.create(ctx, data)
        try:
            self.data.upload_file(ctx, image.id, path)
        except BaseException:
            self.delete(RequestContext.admin(), image.id)
            raise
        return self.get_image(ctx, image.id)

    # -- CRUD ---------------------------------------------------------------

    def show(self, ctx: RequestContext, image_id: str) -> Image:
        with self.db.reader() as session:
            image = self.load(session, ctx, image_id)
            self.enforce(ctx, "get_image", image)
            return image

    def create(self, ctx: RequestContext, data: Mapping[str, Any]) -> Image:
        data = dict(data)
        for key in data:
            if key in READ_ONLY:
                raise ReadOnlyAttribute(name=key)
            if key in RESERVED or key.startswith("os_glance"):
                raise ReservedAttribute(name=key)
        from onestack.image.patch import validate_core, validate_property

        for key, value in list(data.items()):
            data[key] = validate_core(key, value) if key in CORE else validate_property(key, value)
        owner = data.pop("owner", None) or ctx.project_id
        if owner != ctx.project_id:
            self.enforcer.enforce(ctx, "image:set_owner", {"target": {"owner": owner}})
        image_id = data.pop("id", None) or str(uuid.uuid4())
        validate_id(image_id)
        visibility = data.pop("visibility", None) or "shared"
        tags = data.pop("tags", None) or []
        now = utcnow()
        image = Image(
            id=image_id,
            name=data.pop("name", None),
            status=states.QUEUED,
            visibility="private",
            owner=owner,
            disk_format=data.pop("disk_format", None),
            container_format=data.pop("container_format", None),
            min_disk=data.pop("min_disk", 0) or 0,
            min_ram=data.pop("min_ram", 0) or 0,
            protected=bool(data.pop("protected", False)),
            os_hidden=bool(data.pop("os_hidden", False)),
            created_at=now,
            updated_at=now,
        )
        self.enforce(ctx, "add_image", image)
        self.set_visibility(ctx, image, visibility)
        self.check_limit(len(data), self.settings.image_property_quota, "properties")
        self.check_limit(len(set(tags)), self.settings.image_tag_quota, "tags")
        image.properties = [ImageProperty(name=k, value=v) for k, v in data.items()]
        image.tags = [ImageTag(value=t) for t in dict.fromkeys(tags)]
        with self.db.writer() as session:
            if session.get(Image, image_id) is not None:
                raise DuplicateImage(image_id=image_id)
            if owner:
                self.quotas.check(session, owner, {"image_count_total": 1})
            session.add(image)
        return image

    def set_visibility(self, ctx: RequestContext, image: Image, visibility: str) -> None:
        if visibility not in states.VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        if visibility == "public" and image.visibility != "public":
            self.enforce(ctx, "publicize_image", image)
        if visibility == "community" and image.visibility != "community":
            self.enforce(ctx, "communitize_image", image)
        image.visibility = visibility

    @staticmethod
    def check_limit(count: int, limit: int, what: str) -> None:
        if limit >= 0 and count > limit:
            raise LimitExceeded(reason=f"Maximum number of {what} exceeded ({count} > {limit}).")

    def update(self, ctx: RequestContext, image_id: str, changes: Sequence[Any]) -> Image:
        from onestack.image.patch import apply_changes

        with self.db.writer() as session:
            image = self.load(session, ctx, image_id)
            self.enforce(ctx, "modify_image", image)
            apply_changes(self, ctx, session, image, list(changes))
            image.updated_at = utcnow()
        return self.show(ctx, image_id)

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        with self.db.writer() as session:
            image = self.load(session, ctx, image_id)
            self.enforce(ctx, "delete_image", image)
            if image.protected:
                raise ImageProtected(image_id=image_id)
            location, staged = image.location, image.status in (states.UPLOADING, states.IMPORTING)
            session.delete(image)
        self.delete_data(location, staged)

    def set_active(self, ctx: RequestContext, image_id: str, active: bool) -> None:
        """Deactivate (``active`` False) or reactivate an image."""
        action = "reactivate" if active else "deactivate"
        with self.db.writer() as session:
            image = self.load(session, ctx, image_id)
            self.enforce(ctx, action, image)
            wanted = states.ACTIVE if active else states.DEACTIVATED
            if image.status == wanted:
                return
            if image.status not in states.HAS_DATA:
                raise BadRequest(f"Not allowed to {action} image in status '{image.status}'")
            image.status = wanted
            image.updated_at = utcnow()

    def usage(self, ctx: RequestContext) -> dict[str, dict[str, int]]:
        self.enforcer.enforce(ctx, "image:get_usage", {"target": {"owner": ctx.project_id}})
        if not ctx.project_id:
            raise Forbidden("Quota usage needs a project-scoped token.")
        with self.db.reader() as session:
            usage = self.quotas.usage(session, ctx.project_id)
        return {name: {"limit": u.limit, "usage": u.in_use} for name, u in usage.items()}

    def reconcile(self) -> int:
        """After a crash: uploads in flight go back to queued, temp files go.

        Returns how many images were reset.
        """
        self.store.clean_incoming()
        self.staging.clean_incoming()
        with self.db.writer() as session:
            rows = list(session.scalars(select(Image).where(Image.status == states.SAVING)))
            for image in rows:
                image.status = states.QUEUED
            for image in session.scalars(select(Image).where(Image.status == states.IMPORTING)):
                image.status = states.UPLOADING
        return len(rows)


def validate_id(image_id: str) -> None:
    try:
        uuid.UUID(str(image_id))
    except ValueError:
        raise BadRequest(f"Invalid image id {image_id!r}: it must be a UUID.") from None
