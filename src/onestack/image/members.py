"""Image members (sharing with other projects) and image tags.

Only ``shared`` images have members.  The owner adds and removes them; the
member project alone accepts or rejects (or puts back to pending) its
membership; an accepted shared image appears in the member's image list.
"""

from __future__ import annotations

from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden
from onestack.image import states
from onestack.image.attributes import check_limit
from onestack.image.core import ImageCore
from onestack.image.exceptions import MemberNotFound, TagNotFound
from onestack.image.models import Image, ImageMember, ImageTag

NOT_SHARED = "Only shared images have members."


class MemberManager:
    def __init__(self, core: ImageCore) -> None:
        self.core = core

    def _shared(self, image: Image) -> None:
        if image.visibility != "shared":
            raise Forbidden(NOT_SHARED)

    def list(self, ctx: RequestContext, image_id: str) -> list[ImageMember]:
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_members", image)
            self._shared(image)
            stmt = select(ImageMember).where(ImageMember.image_id == image_id)
            if not core.is_owner(ctx, image):
                stmt = stmt.where(ImageMember.member_id == ctx.project_id)
            return list(session.scalars(stmt.order_by(ImageMember.created_at)))

    def show(self, ctx: RequestContext, image_id: str, member_id: str) -> ImageMember:
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_member", image)
            self._shared(image)
            member = session.get(ImageMember, (image_id, member_id))
            if member is None or not (core.is_owner(ctx, image) or member_id == ctx.project_id):
                raise MemberNotFound(image_id=image_id, member_id=member_id)
            return member

    def add(self, ctx: RequestContext, image_id: str, member_id: str) -> ImageMember:
        core = self.core
        if not isinstance(member_id, str) or not member_id or len(member_id) > 255:
            raise BadRequest("'member' must be a project id (1-255 characters).")
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "add_member", image)
            if not core.is_owner(ctx, image):
                raise Forbidden("Only the image owner can add members.")
            self._shared(image)
            if session.get(ImageMember, (image_id, member_id)) is not None:
                raise Conflict(f"Member {member_id} already exists for image {image_id}.")
            count = session.scalar(
                select(func.count())
                .select_from(ImageMember)
                .where(ImageMember.image_id == image_id)
            )
            check_limit(int(count or 0) + 1, core.settings.image_member_quota, "members")
            now = utcnow()
            member = ImageMember(
                image_id=image_id,
                member_id=member_id,
                status="pending",
                created_at=now,
                updated_at=now,
            )
            session.add(member)
        return member

    def update(
        self, ctx: RequestContext, image_id: str, member_id: str, status: object
    ) -> ImageMember:
        core = self.core
        if status not in states.MEMBER_STATUSES:
            raise BadRequest(f"Invalid status: {status}; use pending, accepted or rejected.")
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            self._shared(image)
            member = session.get(ImageMember, (image_id, member_id))
            if member is None or not (core.is_owner(ctx, image) or member_id == ctx.project_id):
                raise MemberNotFound(image_id=image_id, member_id=member_id)
            core.enforcer.enforce(
                ctx,
                "image:modify_member",
                {"target": {"owner": image.owner, "member_id": member_id}},
            )
            if ctx.project_id != member_id:
                raise Forbidden("You are not permitted to modify 'status' on this image member.")
            member.status = str(status)
            member.updated_at = utcnow()
        return member

    def delete(self, ctx: RequestContext, image_id: str, member_id: str) -> None:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            self._shared(image)
            member = session.get(ImageMember, (image_id, member_id))
            if member is None or not (core.is_owner(ctx, image) or member_id == ctx.project_id):
                raise MemberNotFound(image_id=image_id, member_id=member_id)
            core.enforce(ctx, "delete_member", image)
            if not core.is_owner(ctx, image):
                raise Forbidden("Only the image owner can remove members.")
            session.delete(member)

    # -- tags -----------------------------------------------------------------

    def add_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        core = self.core
        if not tag or len(tag) > 255:
            raise BadRequest("A tag is 1-255 characters long.")
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "modify_image", image)
            if any(t.value == tag for t in image.tags):
                return
            check_limit(len(image.tags) + 1, core.settings.image_tag_quota, "tags")
            image.tags.append(ImageTag(value=tag))
            image.updated_at = utcnow()

    def delete_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        core = self.core
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "modify_image", image)
            found = [t for t in image.tags if t.value == tag]
            if not found:
                raise TagNotFound(tag=tag)
            image.tags.remove(found[0])
            image.updated_at = utcnow()
