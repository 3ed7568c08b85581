"""Block storage resources, through the volume API (Cinder v3): Volume and
VolumeAttachment (attached through the compute API, as Heat does)."""

from __future__ import annotations

from typing import Any

from onestack.orchestration.exceptions import ResourceFailure, UpdateReplace
from onestack.orchestration.resources.base import Prop
from onestack.orchestration.resources.common import ApiResource, find_id
from onestack.orchestration.resources.nova import NOVA_VERSION, image_id


class Volume(ApiResource):
    type_name = "OS::Cinder::Volume"
    service = "volume"
    description = "A block storage volume."
    collection = "/volumes"
    key = "volume"
    properties_schema = {
        "size": Prop("integer", "Size in GiB.", min=1, update_allowed=True),
        "name": Prop("string", update_allowed=True),
        "description": Prop("string", update_allowed=True),
        "volume_type": Prop("string", constraint="cinder.vtype"),
        "availability_zone": Prop("string"),
        "image": Prop("string", constraint="glance.image"),
        "source_volid": Prop("string"),
        "snapshot_id": Prop("string"),
        "backup_id": Prop("string"),
        "metadata": Prop("map", update_allowed=True),
        "multiattach": Prop("boolean"),
        "read_only": Prop("boolean", update_allowed=True),
        "scheduler_hints": Prop("map"),
    }
    attributes_schema = {
        "size": "",
        "status": "",
        "display_name": "",
        "display_description": "",
        "attachments": "",
        "attachments_list": "",
        "bootable": "",
        "created_at": "",
        "volume_type": "",
        "metadata": "",
        "metadata_values": "",
        "availability_zone": "",
        "encrypted": "",
        "snapshot_id": "",
        "source_volid": "",
        "multiattach": "",
    }

    async def create(self) -> None:
        props = self.properties
        body: dict[str, Any] = {"name": props.get("name") or self.physical_name()}
        for key in (
            "size",
            "description",
            "volume_type",
            "availability_zone",
            "metadata",
            "source_volid",
            "snapshot_id",
            "backup_id",
            "multiattach",
        ):
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("image"):
            body["imageRef"] = await image_id(self, props["image"])
        if not any(body.get(k) for k in ("size", "source_volid", "snapshot_id", "backup_id")):
            raise ResourceFailure(
                "One of the properties size, source_volid, snapshot_id or "
                "backup_id should be specified."
            )
        await self.post(body)
        await self._wait("available", "create")

    async def _wait(self, wanted: str, what: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            volume = await self.show()
            if volume is None:
                raise ResourceFailure(f"The volume {self.physical_id} disappeared.")
            status = volume.get("status")
            if status and status.startswith("error"):
                raise ResourceFailure(f'Went to status {status} due to "Unknown"')
            return volume if status == wanted else None

        result: dict[str, Any] = await self.wait_for(check, what=f"volume {what}")
        return result

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if "description" in changed:
            body["description"] = new.get("description") or ""
        if body:
            await self.put(body)
        if "metadata" in changed:
            await self.cloud.request(
                "volume",
                "PUT",
                f"{self.member()}/metadata",
                json_body={"metadata": new.get("metadata") or {}},
            )
        if "size" in changed:
            if (new.get("size") or 0) < (old.get("size") or 0):
                raise ResourceFailure("The size of a volume can only be increased.")
            volume = await self.show() or {}
            if volume.get("status") != "available":
                raise UpdateReplace("size")
            await self.cloud.request(
                "volume",
                "POST",
                f"{self.member()}/action",
                json_body={"os-extend": {"new_size": new["size"]}},
            )
            await self._wait("available", "extend")
        if "read_only" in changed:
            await self.cloud.request(
                "volume",
                "POST",
                f"{self.member()}/action",
                json_body={"os-update_readonly_flag": {"readonly": bool(new.get("read_only"))}},
            )
        self.properties = new

    async def delete(self) -> None:
        if not self.physical_id:
            return
        await super().delete()
        await self.wait_gone("volume")

    async def snapshot(self) -> dict[str, Any]:
        """deletion_policy Snapshot: a snapshot that outlives the volume."""
        if not self.physical_id:
            return {}
        created = await self.cloud.request(
            "volume",
            "POST",
            "/snapshots",
            json_body={
                "snapshot": {
                    "volume_id": self.physical_id,
                    "force": True,
                    "name": f"{self.physical_name()}-snapshot",
                }
            },
        )
        snap_id = created["snapshot"]["id"]

        async def ready() -> bool | None:
            found = await self.cloud.request("volume", "GET", f"/snapshots/{snap_id}")
            status = found["snapshot"]["status"]
            if status.startswith("error"):
                raise ResourceFailure("The snapshot failed.")
            return True if status == "available" else None

        await self.wait_for(ready, what="volume snapshot")
        return {"snapshot_id": snap_id}

    async def refresh(self) -> None:
        volume = await self.show()
        if volume is None:
            return
        self.attrs.clear()
        self.attrs.update(volume)
        self.attrs.update(
            display_name=volume.get("name"),
            display_description=volume.get("description"),
            attachments_list=volume.get("attachments") or [],
            attachments=str(volume.get("attachments") or []),
            metadata_values=volume.get("metadata") or {},
            show=volume,
        )


class VolumeAttachment(ApiResource):
    type_name = "OS::Cinder::VolumeAttachment"
    service = "compute"
    description = "A volume attached to a server."
    properties_schema = {
        "instance_uuid": Prop("string", "The server.", required=True, update_allowed=True),
        "volume_id": Prop("string", "The volume.", required=True, update_allowed=True),
        "mountpoint": Prop("string", "The device name (e.g. /dev/vdb).", update_allowed=True),
    }

    async def _volume_status(self, volume: str) -> str | None:
        found = await self.cloud.request("volume", "GET", f"/volumes/{volume}", missing_ok=True)
        return found["volume"]["status"] if found else None

    async def create(self) -> None:
        props = self.properties
        volume = await find_id(self, "volume", "/volumes", "volume", props["volume_id"])
        body: dict[str, Any] = {"volumeId": volume}
        if props.get("mountpoint"):
            body["device"] = props["mountpoint"]
        created = await self.cloud.request(
            "compute",
            "POST",
            f"/servers/{props['instance_uuid']}/os-volume_attachments",
            json_body={"volumeAttachment": body},
            headers=NOVA_VERSION,
        )
        self.physical_id = str(created["volumeAttachment"].get("id") or volume)
        self.data.update(server=props["instance_uuid"], volume=volume)

        async def attached() -> bool | None:
            status = await self._volume_status(volume)
            if status is None or status.startswith("error"):
                raise ResourceFailure(f"Volume {volume} went to status {status}.")
            return True if status == "in-use" else None

        await self.wait_for(attached, what=f"volume {volume} to attach")

    async def delete(self) -> None:
        server, volume = self.data.get("server"), self.data.get("volume")
        if not server or not volume:
            return
        await self.cloud.request(
            "compute",
            "DELETE",
            f"/servers/{server}/os-volume_attachments/{volume}",
            missing_ok=True,
            headers=NOVA_VERSION,
            ok=(200, 202, 204),
        )

        async def detached() -> bool | None:
            status = await self._volume_status(volume)
            if status is None or status == "available":
                return True
            if status.startswith("error"):
                raise ResourceFailure(f"Volume {volume} went to status {status}.")
            return None

        await self.wait_for(detached, what=f"volume {volume} to detach")

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        await self.delete()
        self.properties = new
        await self.create()
