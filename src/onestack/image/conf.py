"""The image service's settings (``[image]`` in the TOML file)."""

from __future__ import annotations

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
