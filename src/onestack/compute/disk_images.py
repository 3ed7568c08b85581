"""An instance's root disk as a new image of its project.

createImage, createBackup and shelve all save the disk the same way: the driver
writes it to a file in the agent's work directory (its ``snapshot_disk_format``),
the file goes to the image service with Nova's snapshot properties, and the file
is removed whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from onestack.common.exceptions import OneStackError
from onestack.compute.driver import ComputeDriver
from onestack.compute.images import ImageClient
from onestack.compute.models import Instance
from onestack.compute.rpcapi import SnapshotRequest

#: properties of the base image a snapshot carries over when the caller set none
INHERITED = ("os_distro", "os_type", "hw_architecture", "hypervisor_type")


class DiskImages:
    def __init__(
        self,
        driver: ComputeDriver,
        images: ImageClient,
        work_dir: Path,
        base_properties: Callable[[str, str], dict[str, str]],
    ) -> None:
        self.driver = driver
        self.images = images
        self.directory = work_dir / "snapshots"
        #: (image id, request id) -> the base image's properties ({} when it is gone)
        self.base_properties = base_properties

    def upload(self, instance: Instance, request: SnapshotRequest) -> str:
        """The instance's root disk as the image ``request.name``; its id."""
        self.directory.mkdir(parents=True, exist_ok=True)
        disk_format = self.driver.snapshot_disk_format
        target = self.directory / f"{uuid.uuid4().hex}.{disk_format}"
        try:
            self.driver.snapshot(instance.id, target)
            properties = {
                "image_type": "snapshot",
                "instance_uuid": instance.id,
                "base_image_ref": instance.image_ref,
                "user_id": request.user_id,
            }
            properties.update(request.metadata)  # the caller's metadata wins, as in Nova
            if disk_format == "raw":  # the container driver's root filesystem
                properties["onestack_rootfs"] = "ext4"
            base = self.base_properties(instance.image_ref, request.request_id)
            for key in INHERITED:
                if key in base and key not in properties:
                    properties[key] = base[key]
            return self.images.create_image(
                target,
                name=request.name,
                owner=request.project_id,
                disk_format=disk_format,
                properties=properties,
                min_disk=int(instance.root_gb),
                min_ram=self._min_ram(instance.image_ref),  # the base image's, as Nova
            )
        finally:
            target.unlink(missing_ok=True)

    def _min_ram(self, image_id: str) -> int:
        if not image_id:
            return 0
        try:
            return int(self.images.get_image(image_id).min_ram or 0)
        except OneStackError:  # the base image is gone: nothing to inherit
            return 0
