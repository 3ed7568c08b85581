"""Image records: create, show, update (JSON patch), delete, (de)activate, usage.

Each method is one transaction with its policy check; a failure leaves the
record as it was.  Data (upload, staging, import, download) is
``onestack.image.data``; this module only removes an image's data after its
record is gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Forbidden
from onestack.image import states
from onestack.image.attributes import (
    CORE,
    READ_ONLY,
    check_limit,
    is_reserved,
    validate_core,
    validate_id,
    validate_property,
)
from onestack.image.core import ImageCore, to_record
from onestack.image.exceptions import (
    DuplicateImage,
    ImageProtected,
    ReadOnlyAttribute,
    ReservedAttribute,
)
from onestack.image.interface import ImageRecord
from onestack.image.models import Image, ImageProperty, ImageTag
from onestack.image.patch import Change, apply_changes


class ImageRecords:
    def __init__(
        self, core: ImageCore, after_delete: Callable[[str], None] = lambda image_id: None
    ) -> None:
        self.core = core
        #: called with an image's id once it is deleted (the reader forgets its copies)
        self.after_delete = after_delete

    def show(self, ctx: RequestContext, image_id: str) -> Image:
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_image", image)
            return image

    def get(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        """The image as other services see it (no policy beyond visibility)."""
        core = self.core
        with core.db.reader() as session:
            return to_record(core.load(session, ctx, image_id))

    def owned_named(self, project_id: str, name: str) -> list[ImageRecord]:
        """Every image of ``project_id`` called ``name`` (onestack's own bookkeeping)."""
        with self.core.db.reader() as session:
            rows = session.scalars(
                select(Image).where(Image.name == name, Image.owner == project_id)
            )
            return [to_record(r) for r in rows]

    def create(self, ctx: RequestContext, data: Mapping[str, Any]) -> Image:
        core = self.core
        data = dict(data)
        for key in data:
            if key in READ_ONLY:
                raise ReadOnlyAttribute(name=key)
            if is_reserved(key):
                raise ReservedAttribute(name=key)
        for key, value in list(data.items()):
            data[key] = validate_core(key, value) if key in CORE else validate_property(key, value)
        owner = data.pop("owner", None) or ctx.project_id
        if owner != ctx.project_id:
            core.enforce_owner(ctx, "set_owner", owner)
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
        core.enforce(ctx, "add_image", image)
        core.set_visibility(ctx, image, visibility)
        check_limit(len(data), core.settings.image_property_quota, "properties")
        check_limit(len(set(tags)), core.settings.image_tag_quota, "tags")
        image.properties = [ImageProperty(name=k, value=v) for k, v in data.items()]
        image.tags = [ImageTag(value=t) for t in dict.fromkeys(tags)]
        with core.db.writer() as session:
            if session.get(Image, image_id) is not None:
                raise DuplicateImage(image_id=image_id)
            if owner:
                core.quotas.check(session, owner, {"image_count_total": 1})
            session.add(image)
        return image

    def update(self, ctx: RequestContext, image_id: str, changes: Sequence[Change]) -> Image:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "modify_image", image)
            apply_changes(core, ctx, image, list(changes))
            session.flush()
            image.updated_at = utcnow()
        return self.show(ctx, image_id)

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "delete_image", image)
            if image.protected:
                raise ImageProtected(image_id=image_id)
            staged = (
                image.location if image.status in (states.UPLOADING, states.IMPORTING) else None
            )
            locations = [(loc.store, loc.url) for loc in image.locations]
            session.delete(image)
        core.delete_data(staged, locations)
        self.after_delete(image_id)

    def set_active(self, ctx: RequestContext, image_id: str, active: bool) -> None:
        """Deactivate (``active`` False) or reactivate an image."""
        core = self.core
        action = "reactivate" if active else "deactivate"
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, action, image)
            wanted = states.ACTIVE if active else states.DEACTIVATED
            if image.status == wanted:
                return
            if image.status not in states.HAS_DATA:
                raise BadRequest(f"Not allowed to {action} image in status '{image.status}'")
            image.status = wanted
            image.updated_at = utcnow()

    def usage(self, ctx: RequestContext) -> dict[str, dict[str, int]]:
        core = self.core
        core.enforce(ctx, "get_usage")
        if not ctx.project_id:
            raise Forbidden("Quota usage needs a project-scoped token.")
        with core.db.reader() as session:
            usage = core.quotas.usage(session, ctx.project_id)
        return {name: {"limit": u.limit, "usage": u.in_use} for name, u in usage.items()}
