"""What every part of the image service shares: the database, policy, settings,
quotas, the stores, and the look-ups that enforce visibility.

A project sees an image it owns, a public or community image, or a shared
image it is a member of (any membership status counts for a direct look-up);
an administrator sees every image.  An image ``ctx`` may not see is reported
as not found, never as forbidden.  The sub-managers (``images``, ``data``,
``listing``, ``members``) each take one :class:`ImageCore`; none of them
knows the others or the façade (``manager.ImageManager``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import BadRequest, OneStackError
from onestack.common.faults import FaultStore
from onestack.common.policy import Enforcer
from onestack.common.quota import QuotaEngine, QuotaResource
from onestack.image import states
from onestack.image.conf import ImageSettings
from onestack.image.exceptions import ImageNotFound, ImageQuotaExceeded
from onestack.image.interface import ImageRecord
from onestack.image.models import Image, ImageMember
from onestack.image.store import FilesystemStore, ImageStore
from onestack.image.stores import StoreSet

LOG = logging.getLogger(__name__)
MIB = 1 << 20


def mib(nbytes: int) -> int:
    """``nbytes`` in MiB, rounded up (the unit of the size quotas)."""
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
                lambda s, p: mib(_sum(s, Image.size, p)),
            ),
            QuotaResource(
                "image_stage_total",
                settings.image_stage_total,
                lambda s, p: mib(_sum(s, Image.staged_size, p, Image.status.in_(staged))),
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
        created_at=image.created_at,
        updated_at=image.updated_at,
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


class ImageCore:
    def __init__(
        self,
        settings: ImageSettings,
        db: Database,
        enforcer: Enforcer,
        stores: StoreSet,
        staging: FilesystemStore,
    ) -> None:
        self.settings = settings
        self.db = db
        self.enforcer = enforcer
        #: where active images' data lives (one or more stores per image)
        self.stores = stores
        #: where staged (``PUT /stage``) data waits for ``POST /import``, and where
        #: data read from a remote store is checked before it is served
        self.staging = staging
        #: injected faults (an ``image_upload`` fault kills the upload)
        self.faults = FaultStore(db)
        self.quotas = quota_engine(settings)

    # -- policy -----------------------------------------------------------------

    @staticmethod
    def target(image: Image, **extra: Any) -> dict[str, Any]:
        return {
            "target": {"owner": image.owner, "visibility": image.visibility, **extra},
            "owner": image.owner,
            "project_id": image.owner,
        }

    def enforce(self, ctx: RequestContext, action: str, image: Image | None = None) -> None:
        """Policy ``image:<action>`` on ``image`` (or on the caller's project)."""
        target = self.target(image) if image is not None else {"target": {"owner": ctx.project_id}}
        self.enforcer.enforce(ctx, f"image:{action}", target)

    def enforce_owner(self, ctx: RequestContext, action: str, owner: str | None) -> None:
        """Policy ``image:<action>`` on a target owned by ``owner``."""
        self.enforcer.enforce(ctx, f"image:{action}", {"target": {"owner": owner}})

    @staticmethod
    def is_owner(ctx: RequestContext, image: Image) -> bool:
        return ctx.is_admin or (image.owner is not None and image.owner == ctx.project_id)

    def set_visibility(self, ctx: RequestContext, image: Image, visibility: str) -> None:
        if visibility not in states.VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        if visibility == "public" and image.visibility != "public":
            self.enforce(ctx, "publicize_image", image)
        if visibility == "community" and image.visibility != "community":
            self.enforce(ctx, "communitize_image", image)
        image.visibility = visibility

    # -- look-ups ---------------------------------------------------------------

    def load(self, session: Session, ctx: RequestContext, image_id: str) -> Image:
        """The image if ``ctx`` may see it; ImageNotFound otherwise."""
        stmt = select(Image).where(Image.id == image_id)
        if not ctx.is_admin:
            stmt = stmt.where(visible_clause(ctx))
        image = session.scalars(stmt).first()
        if image is None:
            raise ImageNotFound(image_id=image_id)
        return image

    # -- data -------------------------------------------------------------------

    def store_named(self, name: str) -> ImageStore | None:
        """An enabled store (None: the store is no longer enabled)."""
        return self.stores.stores.get(name)

    def delete_data(self, staged: str | None, locations: list[tuple[str, str]]) -> None:
        """Remove staged data and the data at ``(store, url)`` locations."""
        if staged:
            self.staging.delete(staged)
        for name, url in locations:
            store = self.store_named(name)
            if store is None:
                continue
            try:
                store.delete(url)
            except (OneStackError, OSError) as exc:  # the record is gone: log what is left
                LOG.warning("the data at %s in the %s store was not deleted: %s", url, name, exc)
