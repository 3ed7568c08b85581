"""The image service's façade (``ImageManager``): its sub-managers and its
public Python interface (``onestack.image.interface.ImageService``).

Composition, one direction only::

    ImageManager ──> ImageRecords (images.py)     create, show, update, delete, usage
                 ──> ImageDataManager (data.py)   upload, stage, import, download
                 ──> ImageLister (listing.py)     GET /v2/images
                 ──> MemberManager (members.py)   members and tags
                 ──> MetadefManager (metadefs.py) the metadata definitions catalog
                 ──> TaskManager (tasks.py)       /v2/tasks (imports through the importer)
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
from onestack.image.imports import ImageImporter
from onestack.image.interface import DataLocation, ImageRecord
from onestack.image.listing import ImageLister
from onestack.image.locations import StoreLocations
from onestack.image.members import MemberManager
from onestack.image.metadefs import MetadefManager
from onestack.image.patch import Change
from onestack.image.reader import ImageReader
from onestack.image.store import FilesystemStore, ImageStore
from onestack.image.stores import StoreSet
from onestack.image.tasks import TaskManager


class ImageManager:
    """Glance's logic; implements ``ImageService``."""

    def __init__(
        self,
        settings: ImageSettings,
        db: Database,
        enforcer: Enforcer,
        state_dir: Path,
        remote_stores: Sequence[ImageStore] = (),
    ) -> None:
        """``remote_stores``: the enabled stores besides ``file`` (the plugin builds
        them: ``swift`` when the object service runs)."""
        root = state_dir / "images"
        stores: dict[str, ImageStore] = {}
        if "file" in settings.enabled_backends:
            stores["file"] = FilesystemStore(root)
        for store in remote_stores:
            stores[store.name] = store
        default = settings.default_backend or ("swift" if "swift" in stores else "file")
        self.core = ImageCore(
            settings,
            db,
            enforcer,
            StoreSet(stores, default),
            FilesystemStore(root / "staging", name="staging"),
        )
        self.reader = ImageReader(self.core, root / "cache")
        self.images = ImageRecords(self.core, after_delete=self.reader.forget)
        self.data = ImageDataManager(self.core, self.reader)
        self.importer = ImageImporter(self.core, self.reader)
        self.locations = StoreLocations(self.core, forget=self.reader.forget)
        self.lister = ImageLister(self.core)
        self.members = MemberManager(self.core)
        self.metadefs = MetadefManager(self.core)
        self.tasks = TaskManager(self.core, self.images, self.importer)

    @property
    def local_store(self) -> str | None:
        """``file`` when it is enabled: the default images are registered there, at
        start, before the object storage API answers."""
        return "file" if "file" in self.core.stores.stores else None

    # -- the public interface (onestack.image.interface.ImageService) ------------

    def get_image(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        return self.images.get(ctx, image_id)

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        return self.data.data_path(ctx, image_id)

    def data_locations(self, ctx: RequestContext, image_id: str) -> list[DataLocation]:
        return self.data.data_locations(ctx, image_id)

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
        store: str | None = None,
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
            self.data.upload_file(ctx, image.id, path, store)
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
        """After a crash: uploads in flight go back to queued, temp files go, import
        tasks in flight fail; the built-in metadefs resource types are there."""
        self.metadefs.ensure_resource_types()
        return self.data.reconcile() + self.tasks.reconcile()
