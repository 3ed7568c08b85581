"""The image service's façade (``ImageManager``): its sub-managers and its
public Python interface (``onestack.image.interface.ImageService``).

Composition, one direction only::

    ImageManager ──> ImageRecords (images.py)     create, show, update, delete, usage
                 ──> ImageDataManager (data.py)   upload, stage, import, download
                 ──> ImageLister (listing.py)     GET /v2/images
                 ──> MemberManager (members.py)   members and tags
                       └── each takes the one ImageCore (core.py)

Other services use only the interface's methods (``get_image``,
``data_path``, ``create_from_file``, and for Nova's image proxy ``list_images``,
``delete_image``, ``update_image_properties``) through ``cloud.neighbours.image``; the
HTTP routes call the sub-managers.  The image service needs no other service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.image.conf import ImageSettings
from onestack.image.core import ImageCore, to_record
from onestack.image.data import ImageDataManager
from onestack.image.images import ImageRecords
from onestack.image.interface import ImageRecord
from onestack.image.listing import ImageLister
from onestack.image.members import MemberManager
from onestack.image.patch import Change
from onestack.image.store import FilesystemStore


class ImageManager:
    """Glance's logic; implements ``ImageService``."""

    def __init__(
        self, settings: ImageSettings, db: Database, enforcer: Enforcer, state_dir: Path
    ) -> None:
        root = state_dir / "images"
        self.core = ImageCore(
            settings, db, enforcer, FilesystemStore(root), FilesystemStore(root / "staging")
        )
        self.images = ImageRecords(self.core)
        self.data = ImageDataManager(self.core)
        self.lister = ImageLister(self.core)
        self.members = MemberManager(self.core)

    # -- the public interface (onestack.image.interface.ImageService) ------------

    def get_image(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        return self.images.get(ctx, image_id)

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        return self.data.data_path(ctx, image_id)

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
        data = {
            "name": name,
            "disk_format": disk_format,
            "container_format": container_format,
            "visibility": visibility,
            "min_disk": min_disk,
            "min_ram": min_ram,
            **(properties or {}),
        }
        image = self.images.create(ctx, data)
        try:
            self.data.upload_file(ctx, image.id, path)
        except BaseException:
            self.images.delete(RequestContext.admin(), image.id)
            raise
        return self.images.get(ctx, image.id)

    def list_images(
        self,
        ctx: RequestContext,
        query: Sequence[tuple[str, str]],
        *,
        at_least: Mapping[str, int] | None = None,
    ) -> list[ImageRecord]:
        return [to_record(i) for i in self.lister.list(ctx, query, at_least).images]

    def delete_image(self, ctx: RequestContext, image_id: str) -> None:
        self.images.delete(ctx, image_id)

    def update_image_properties(
        self,
        ctx: RequestContext,
        image_id: str,
        set_properties: Mapping[str, str],
        remove: Sequence[str] = (),
    ) -> ImageRecord:
        changes = [Change("remove", name) for name in remove]
        changes += [Change("add", name, value) for name, value in set_properties.items()]
        self.images.update(ctx, image_id, changes)
        return self.images.get(ctx, image_id)

    # -- onestack's own bookkeeping --------------------------------------------------

    def reconcile(self) -> int:
        """After a crash: uploads in flight go back to queued, temp files go."""
        return self.data.reconcile()
