"""The image service's settings (``[image]`` in the TOML file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ImageSettings(BaseModel):
    image_count_total: int = Field(
        -1, ge=-1, description="Default quota: images per project (-1: unlimited)."
    )
    image_size_total: int = Field(
        -1, ge=-1, description="Default quota: MiB of image data per project (-1: unlimited)."
    )
    image_stage_total: int = Field(
        -1, ge=-1, description="Default quota: MiB of staged (not yet imported) data per project."
    )
    image_count_uploading: int = Field(
        -1, ge=-1, description="Default quota: images being uploaded at once per project."
    )
    image_member_quota: int = Field(128, ge=-1, description="Members per image.")
    image_property_quota: int = Field(128, ge=-1, description="Extra properties per image.")
    image_tag_quota: int = Field(128, ge=-1, description="Tags per image.")
    image_size_cap: int = Field(
        1 << 40, ge=1, description="Largest image accepted, in bytes (Glance's image_size_cap)."
    )
    limit_param_default: int = Field(25, ge=1, description="Page size of an image list.")
    api_limit_max: int = Field(1000, ge=1, description="Largest page size of an image list.")
    default_images: bool = Field(
        True, description="Build and register the onestack-busybox image on first start."
    )
    default_vm_image: bool = Field(
        True,
        description="Register the onestack-vm image (bootable qcow2) at start, building it in "
        "the background the first time on this machine.",
    )
    enabled_backends: list[Literal["file", "swift", "cinder"]] = Field(
        default_factory=lambda: ["file", "swift"],  # type: ignore[arg-type]
        description="Stores images may be kept in (Glance's enabled_backends): 'file' (the "
        "state directory), 'swift' (the cloud's own object storage, when it runs) and "
        "'cinder' (a volume per image, when the volume service runs; attaching needs root).",
    )
    default_backend: Literal["file", "swift", "cinder"] | None = Field(
        None,
        description="The store new image data goes to (Glance's default_backend); unset: "
        "'swift' when the object service runs, else 'file'.",
    )
    swift_container: str = Field(
        "glance",
        min_length=1,
        description="Container of the image service's account holding images.",
    )
    swift_chunk_size: int = Field(
        200 << 20,
        ge=1 << 20,
        description="Bytes per segment of an image in object storage; a larger image is a "
        "dynamic large object of such segments (Glance's swift_store_large_object_chunk_size).",
    )
    service_password: str | None = Field(
        None,
        description="The password of the image service's user (glance, the owner of its "
        "object storage account); unset: the one the bootstrap keeps in the state "
        "directory (secrets/<service_user>-password).",
    )
    web_download_allowed: list[str] = Field(
        default_factory=list,
        description="Hosts (or host:port) the web-download import method may fetch from; "
        "empty: web-download is not offered.",
    )
