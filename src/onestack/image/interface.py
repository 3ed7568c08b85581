"""What other services may use of the image service (its public Python interface).

The compute service boots from and snapshots to images through exactly
these calls on ``cloud.neighbours.image`` (the ``ImageManager``), never
through the image service's tables or HTTP API; Nova's image proxy
(``/v2.1/images`` up to microversion 2.35) lists, deletes and edits the
properties of images through the same object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from onestack.common.context import RequestContext


@dataclass(frozen=True)
class ImageRecord:
    id: str
    name: str | None
    status: str  # queued, saving, active, killed, deactivated, deleted, ...
    disk_format: str | None  # raw, qcow2, vmdk, ...
    container_format: str | None  # bare, docker, ova, ...
    size: int | None
    min_disk: int  # GiB
    min_ram: int  # MiB
    owner: str | None
    visibility: str  # public, private, shared, community
    protected: bool
    checksum: str | None
    properties: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class DataLocation:
    """One copy of an active image's data: its store and the store's URL for it
    (``cinder://<volume id>`` for the cinder store)."""

    store: str
    url: str


class ImageService(Protocol):
    def get_image(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        """The image if ``ctx`` may see it; raises a NotFound subclass otherwise."""
        ...

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        """A local file with the image's bytes (read-only; do not modify or delete).

        Raises NotFound when ``ctx`` may not see the image, Conflict when the
        image is not active (no data or deactivated).
        """
        ...

    def data_locations(self, ctx: RequestContext, image_id: str) -> list[DataLocation]:
        """Where the active image's data is, one entry per store (the volume service
        clones a volume of the cinder store instead of copying the bytes)."""
        ...

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
        """Create an active image owned by ``ctx.project_id`` from a local file
        (copied into the store; the caller keeps ``path``).  Quotas apply."""
        ...

    def list_images(
        self,
        ctx: RequestContext,
        query: Sequence[tuple[str, str]],
        *,
        at_least: Mapping[str, int] | None = None,
    ) -> list[ImageRecord]:
        """The images ``ctx`` sees, as Glance's ``GET /v2/images`` answers ``query``
        (filters, custom properties, ``limit``, ``marker``, sorting); ``at_least``
        keeps those whose ``min_disk``/``min_ram`` is at least the value given.
        BadRequest for a bad filter or marker."""
        ...

    def delete_image(self, ctx: RequestContext, image_id: str) -> None:
        """Delete the image and its data (policy as Glance's delete; NotFound, Forbidden
        for a protected image)."""
        ...

    def update_image_properties(
        self,
        ctx: RequestContext,
        image_id: str,
        set_properties: Mapping[str, str],
        remove: Sequence[str] = (),
    ) -> ImageRecord:
        """Set and remove custom properties in one transaction (Glance's property
        quota and reserved names apply); the image afterwards."""
        ...
