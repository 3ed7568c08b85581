"""Compute resources, through the compute API (Nova v2.1): Server, KeyPair, Flavor.

A server's flavor change resizes it in place (resize, then confirm), an image
change rebuilds it, a ``user_data`` change replaces it (``user_data_update_policy:
REPLACE``, Heat's default).  ``user_data_format``: RAW passes the text as is;
HEAT_CFNTOOLS (the default) wraps it in a multipart MIME document whose
``cfn-userdata`` part is the text; SOFTWARE_CONFIG takes the text of the software
config the value names.
"""

from __future__ import annotations

import asyncio
import base64
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from onestack.orchestration.exceptions import ResourceFailure, ServiceCallFailed, UpdateReplace
from onestack.orchestration.resources.base import Prop
from onestack.orchestration.resources.common import ApiResource, find_id, is_uuid

NOVA_VERSION = {"X-OpenStack-Nova-API-Version": "2.1"}


async def flavor_id(resource: ApiResource, value: Any) -> str:
    text = str(value)
    found = await resource.cloud.request("compute", "GET", f"/flavors/{text}", missing_ok=True)
    if found is not None and isinstance(found.get("flavor"), dict):
        return str(found["flavor"]["id"])
    listing = await resource.cloud.request(
        "compute", "GET", "/flavors/detail", params={"is_public": "None"}
    )
    for flavor in listing.get("flavors", []):
        if flavor.get("name") == text:
            return str(flavor["id"])
    raise ServiceCallFailed("NotFound", 404, f"Flavor {text} could not be found.")


async def image_id(resource: ApiResource, value: Any) -> str:
    text = str(value)
    if is_uuid(text):
        found = await resource.cloud.request("image", "GET", f"/v2/images/{text}", missing_ok=True)
        if found is not None:
            return str(found["id"])
    listing = await resource.cloud.request("image", "GET", "/v2/images", params={"name": text})
    images = listing.get("images", []) if isinstance(listing, dict) else []
    if not images:
        raise ServiceCallFailed("NotFound", 404, f"Image {text} could not be found.")
    if len(images) > 1:
        raise ServiceCallFailed(
            "PhysicalResourceNameAmbiguity",
            400,
            f"Multiple physical resources were found with name ({text}).",
        )
    return str(images[0]["id"])


def cfn_mime(user_data: str) -> str:
    message = MIMEMultipart()
    part = MIMEText(user_data, "x-cfninitdata", "us-ascii" if user_data.isascii() else "utf-8")
    part.add_header("Content-Disposition", "attachment", filename="cfn-userdata")
    message.attach(part)
    return message.as_string()


_NETWORK = Prop(
    "map",
    schema={
        "network": Prop("string", constraint="neutron.network"),
        "uuid": Prop("string"),
        "port": Prop("string"),
        "fixed_ip": Prop("string"),
        "subnet": Prop("string"),
        "floating_ip": Prop("string"),
        "tag": Prop("string"),
        "allocate_network": Prop("string", allowed=("none", "auto")),
        "port_extra_properties": Prop("map"),
        "vif_model": Prop("string"),
    },
)
_BDM = Prop(
    "map",
    schema={
        "device_name": Prop("string"),
        "volume_id": Prop("string"),
        "image": Prop("string"),
        "image_id": Prop("string"),
        "snapshot_id": Prop("string"),
        "swap_size": Prop("integer"),
        "ephemeral_size": Prop("integer"),
        "ephemeral_format": Prop("string"),
        "source_type": Prop("string"),
        "destination_type": Prop("string"),
        "disk_bus": Prop("string"),
        "device_type": Prop("string"),
        "volume_size": Prop("integer"),
        "boot_index": Prop("integer"),
        "delete_on_termination": Prop("boolean"),
    },
)


class Server(ApiResource):
    type_name = "OS::Nova::Server"
    service = "compute"
    description = "A compute instance."
    collection = "/servers"
    key = "server"
    properties_schema = {
        "name": Prop("string", "Server name.", update_allowed=True),
        "image": Prop(
            "string", "Image name or id.", update_allowed=True, constraint="glance.image"
        ),
        "image_update_policy": Prop(
            "string",
            default="REBUILD",
            update_allowed=True,
            allowed=("REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"),
        ),
        "flavor": Prop(
            "string",
            "Flavor name or id.",
            required=True,
            update_allowed=True,
            constraint="nova.flavor",
        ),
        "flavor_update_policy": Prop(
            "string", default="RESIZE", update_allowed=True, allowed=("RESIZE", "REPLACE")
        ),
        "key_name": Prop("string", constraint="nova.keypair"),
        "admin_pass": Prop("string", update_allowed=True),
        "availability_zone": Prop("string"),
        "networks": Prop("list", update_allowed=True, schema={"*": _NETWORK}),
        "security_groups": Prop("list", default=[]),
        "user_data": Prop("string", default="", update_allowed=True),
        "user_data_format": Prop(
            "string", default="HEAT_CFNTOOLS", allowed=("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG")
        ),
        "user_data_update_policy": Prop(
            "string", default="REPLACE", update_allowed=True, allowed=("REPLACE", "IGNORE")
        ),
        "software_config_transport": Prop("string", default="POLL_SERVER_CFN"),
        "metadata": Prop("map", update_allowed=True),
        "config_drive": Prop("boolean"),
        "block_device_mapping": Prop("list"),
        "block_device_mapping_v2": Prop("list", schema={"*": _BDM}),
        "scheduler_hints": Prop("map"),
        "personality": Prop("map", default={}),
        "diskConfig": Prop("string", allowed=("AUTO", "MANUAL")),
        "reservation_id": Prop("string"),
        "deployment_swift_data": Prop("map"),
        "tags": Prop("list", update_allowed=True),
    }
    attributes_schema = {
        "addresses": "Addresses by network name.",
        "networks": "Addresses by network.",
        "first_address": "The first IPv4 address.",
        "name": "",
        "instance_name": "",
        "accessIPv4": "",
        "accessIPv6": "",
        "console_urls": "",
        "os_collect_config": "",
    }

    async def _user_data(self) -> str | None:
        text = self.properties.get("user_data") or ""
        form = self.properties.get("user_data_format") or "HEAT_CFNTOOLS"
        if form == "SOFTWARE_CONFIG":
            software = self.stack.engine.software
            stored = software.config_text(text) if software is not None and text else None
            text = stored if stored is not None else text
        elif form == "HEAT_CFNTOOLS" and text:
            text = cfn_mime(text)
        if not text:
            return None
        return base64.b64encode(text.encode()).decode()

    async def _networks(self) -> list[dict[str, Any]] | None:
        entries = self.properties.get("networks")
        if entries is None:
            return None
        out = []
        for entry in entries:
            if entry.get("allocate_network"):
                return entry["allocate_network"]
            item: dict[str, Any] = {}
            if entry.get("port"):
                item["port"] = await find_id(self, "network", "/v2.0/ports", "port", entry["port"])
            net = entry.get("network") or entry.get("uuid")
            if net and not entry.get("port"):
                item["uuid"] = await find_id(self, "network", "/v2.0/networks", "network", net)
            if entry.get("subnet") and "uuid" not in item and "port" not in item:
                subnet_id = await find_id(
                    self, "network", "/v2.0/subnets", "subnet", entry["subnet"]
                )
                subnet = await self.cloud.request("network", "GET", f"/v2.0/subnets/{subnet_id}")
                item["uuid"] = subnet["subnet"]["network_id"]
            if entry.get("fixed_ip"):
                item["fixed_ip"] = entry["fixed_ip"]
            if entry.get("tag"):
                item["tag"] = entry["tag"]
            out.append(item)
        return out

    def _bdm(self) -> list[dict[str, Any]]:
        out = []
        for entry in self.properties.get("block_device_mapping_v2") or []:
            item: dict[str, Any] = {}
            if entry.get("volume_id"):
                item.update(
                    source_type="volume", uuid=entry["volume_id"], destination_type="volume"
                )
            elif entry.get("image") or entry.get("image_id"):
                item.update(
                    source_type="image",
                    uuid=entry.get("image") or entry.get("image_id"),
                    destination_type=entry.get("destination_type") or "volume",
                )
            elif entry.get("snapshot_id"):
                item.update(
                    source_type="snapshot", uuid=entry["snapshot_id"], destination_type="volume"
                )
            else:
                item.update(
                    source_type="blank", destination_type=entry.get("destination_type") or "local"
                )
            for key in (
                "boot_index",
                "device_name",
                "volume_size",
                "delete_on_termination",
                "disk_bus",
                "device_type",
            ):
                if entry.get(key) is not None:
                    item[key] = entry[key]
            out.append(item)
        return out

    async def create(self) -> None:
        props = self.properties
        body: dict[str, Any] = {
            "name": props.get("name") or self.physical_name(),
            "flavorRef": await flavor_id(self, props["flavor"]),
        }
        bdm = self._bdm()
        if props.get("image"):
            body["imageRef"] = await image_id(self, props["image"])
        elif not bdm:
            raise ResourceFailure("Neither image nor bootable volume is specified for instance.")
        if bdm:
            for item in bdm:
                if item.get("source_type") == "image" and not is_uuid(str(item["uuid"])):
                    item["uuid"] = await image_id(self, item["uuid"])
            body["block_device_mapping_v2"] = bdm
        networks = await self._networks()
        if networks is not None:
            body["networks"] = networks
        groups = props.get("security_groups") or []
        if groups:
            body["security_groups"] = [{"name": g} for g in groups]
        user_data = await self._user_data()
        if user_data:
            body["user_data"] = user_data
        for key, target in (
            ("key_name", "key_name"),
            ("availability_zone", "availability_zone"),
            ("metadata", "metadata"),
            ("config_drive", "config_drive"),
            ("admin_pass", "adminPass"),
        ):
            if props.get(key) is not None:
                body[target] = props[key]
        extra: dict[str, Any] = {}
        if props.get("scheduler_hints"):
            extra["os:scheduler_hints"] = props["scheduler_hints"]
        created = await self.cloud.request(
            "compute", "POST", "/servers", json_body={"server": body, **extra}, headers=NOVA_VERSION
        )
        self.physical_id = str(created["server"]["id"])
        await self._wait_active("create")
        await self._floating_ips()

    async def _floating_ips(self) -> None:
        entries = [e for e in self.properties.get("networks") or [] if e.get("floating_ip")]
        if not entries:
            return
        ports = await self.cloud.request(
            "network", "GET", "/v2.0/ports", params={"device_id": self.physical_id}
        )
        for entry in entries:
            port = next(iter(ports.get("ports", [])), None)
            if port is None:
                raise ResourceFailure("The server has no port for its floating IP.")
            await self.cloud.request(
                "network",
                "PUT",
                f"/v2.0/floatingips/{entry['floating_ip']}",
                json_body={"floatingip": {"port_id": port["id"]}},
            )

    async def _wait_active(
        self, what: str, allowed: tuple[str, ...] = ("ACTIVE",)
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            server = await self.show()
            if server is None:
                raise ResourceFailure(f"The server {self.physical_id} disappeared during {what}.")
            status = server.get("status")
            if status == "ERROR":
                fault = (server.get("fault") or {}).get("message") or "unknown"
                raise ResourceFailure(f'Went to status ERROR due to "Message: {fault}"')
            if status in allowed:
                return server
            return None

        result: dict[str, Any] = await self.wait_for(check, what=f"server {what}")
        return result

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        changed = {k for k in set(new) | set(old) if new.get(k) != old.get(k)}
        if "user_data" in changed and new.get("user_data_update_policy") != "IGNORE":
            raise UpdateReplace("user_data")
        if "image" in changed and new.get("image_update_policy") == "REPLACE":
            raise UpdateReplace("image")
        if "flavor" in changed and new.get("flavor_update_policy") == "REPLACE":
            raise UpdateReplace("flavor")
        for key in changed:
            prop = self.properties_schema.get(key)
            if prop is None or not prop.update_allowed:
                raise UpdateReplace(key)
        self.properties = new
        member = f"/servers/{self.physical_id}"
        if "flavor" in changed:
            flavor = await flavor_id(self, new["flavor"])
            await self.cloud.request(
                "compute",
                "POST",
                f"{member}/action",
                json_body={"resize": {"flavorRef": flavor}},
                headers=NOVA_VERSION,
            )
            await self._wait_active("resize", ("VERIFY_RESIZE",))
            await self.cloud.request(
                "compute",
                "POST",
                f"{member}/action",
                json_body={"confirmResize": None},
                headers=NOVA_VERSION,
            )
            await self._wait_active("resize")
        if "image" in changed:
            image = await image_id(self, new["image"])
            body: dict[str, Any] = {"imageRef": image}
            if new.get("admin_pass"):
                body["adminPass"] = new["admin_pass"]
            await self.cloud.request(
                "compute",
                "POST",
                f"{member}/action",
                json_body={"rebuild": body},
                headers=NOVA_VERSION,
            )
            await asyncio.sleep(self.stack.poll_interval)
            await self._wait_active("rebuild")
        if "name" in changed:
            await self.cloud.request(
                "compute",
                "PUT",
                member,
                json_body={"server": {"name": new.get("name") or self.physical_name()}},
                headers=NOVA_VERSION,
            )
        if "metadata" in changed:
            await self.cloud.request(
                "compute",
                "PUT",
                f"{member}/metadata",
                json_body={"metadata": new.get("metadata") or {}},
                headers=NOVA_VERSION,
            )
        if "networks" in changed:
            raise UpdateReplace("networks")

    async def prepare_for_replace(self) -> None:
        """Detach the ports the template gave (the replacement boots with them)."""
        if not self.physical_id:
            return
        for entry in self.properties.get("networks") or []:
            if not entry.get("port"):
                continue
            port = await find_id(self, "network", "/v2.0/ports", "port", entry["port"])
            await self.cloud.request(
                "compute",
                "DELETE",
                f"{self.member()}/os-interface/{port}",
                missing_ok=True,
                headers=NOVA_VERSION,
            )

            async def released(port: str = port) -> bool | None:
                found = await self.cloud.request("network", "GET", f"/v2.0/ports/{port}")
                return True if not found["port"].get("device_id") else None

            await self.wait_for(released, what=f"port {port} to be released")

    async def delete(self) -> None:
        if not self.physical_id:
            return
        await self.cloud.request(
            "compute", "DELETE", self.member(), missing_ok=True, headers=NOVA_VERSION
        )

        async def gone() -> bool | None:
            server = await self.show()
            if server is None or server.get("status") == "DELETED":
                return True
            if server.get("status") == "ERROR" and server.get("OS-EXT-STS:task_state") is None:
                await self.cloud.request(
                    "compute", "DELETE", self.member(), missing_ok=True, headers=NOVA_VERSION
                )
            return None

        await self.wait_for(gone, what=f"server {self.physical_id} to be deleted")

    async def refresh(self) -> None:
        server = await self.show()
        if server is None:
            return
        addresses = server.get("addresses") or {}
        networks: dict[str, list[str]] = {}
        first = ""
        for net, entries in addresses.items():
            networks[net] = [e.get("addr") for e in entries]
            if not first:
                first = next((e.get("addr") for e in entries if e.get("version") == 4), "")
        self.attrs.clear()
        self.attrs.update(
            addresses=addresses,
            networks=networks,
            first_address=first,
            name=server.get("name"),
            instance_name=server.get("OS-EXT-SRV-ATTR:instance_name"),
            accessIPv4=server.get("accessIPv4", ""),
            accessIPv6=server.get("accessIPv6", ""),
            console_urls={},
            os_collect_config={},
            show=server,
        )

    async def suspend(self) -> None:
        await self.cloud.request(
            "compute",
            "POST",
            f"{self.member()}/action",
            json_body={"suspend": None},
            headers=NOVA_VERSION,
        )
        await self._wait_active("suspend", ("SUSPENDED",))

    async def resume(self) -> None:
        await self.cloud.request(
            "compute",
            "POST",
            f"{self.member()}/action",
            json_body={"resume": None},
            headers=NOVA_VERSION,
        )
        await self._wait_active("resume")

    async def check(self) -> None:
        server = await self.show()
        if server is None or server.get("status") != "ACTIVE":
            raise ResourceFailure(f"Server {self.physical_id} is not ACTIVE.")


class KeyPair(ApiResource):
    type_name = "OS::Nova::KeyPair"
    service = "compute"
    description = "An SSH key pair."
    properties_schema = {
        "name": Prop("string", "The key pair's name.", required=True),
        "public_key": Prop("string", "Import this public key (else one is generated)."),
        "save_private_key": Prop("boolean", default=False),
        "type": Prop("string", allowed=("ssh", "x509")),
        "user": Prop("string"),
    }
    attributes_schema = {"public_key": "", "private_key": ""}

    async def create(self) -> None:
        body: dict[str, Any] = {"name": self.properties["name"]}
        if self.properties.get("public_key"):
            body["public_key"] = self.properties["public_key"]
        created = await self.cloud.request(
            "compute", "POST", "/os-keypairs", json_body={"keypair": body}, headers=NOVA_VERSION
        )
        keypair = created["keypair"]
        self.physical_id = str(keypair["name"])
        if self.properties.get("save_private_key") and keypair.get("private_key"):
            self.data["private_key"] = keypair["private_key"]
        self.data["public_key"] = keypair.get("public_key")

    def reference(self) -> Any:
        return self.physical_id or self.properties.get("name") or self.name

    async def delete(self) -> None:
        if self.physical_id:
            await self.cloud.request(
                "compute",
                "DELETE",
                f"/os-keypairs/{self.physical_id}",
                missing_ok=True,
                headers=NOVA_VERSION,
            )

    async def refresh(self) -> None:
        self.attrs["public_key"] = self.data.get("public_key")
        self.attrs["private_key"] = self.data.get("private_key", "")


class Flavor(ApiResource):
    type_name = "OS::Nova::Flavor"
    service = "compute"
    admin_only = True
    description = "A flavor (administrators only)."
    collection = "/flavors"
    key = "flavor"
    properties_schema = {
        "name": Prop("string"),
        "flavorid": Prop("string"),
        "ram": Prop("integer", required=True, min=1),
        "vcpus": Prop("integer", required=True, min=1),
        "disk": Prop("integer", default=0, min=0),
        "swap": Prop("integer", default=0, min=0),
        "ephemeral": Prop("integer", default=0, min=0),
        "rxtx_factor": Prop("number", default=1.0),
        "is_public": Prop("boolean", default=True),
        "extra_specs": Prop("map", update_allowed=True),
    }
    attributes_schema = {"is_public": "", "extra_specs": "", "name": ""}

    async def create(self) -> None:
        props = self.properties
        body = {
            "name": props.get("name") or self.physical_name(),
            "ram": props["ram"],
            "vcpus": props["vcpus"],
            "disk": props.get("disk") or 0,
            "swap": props.get("swap") or 0,
            "OS-FLV-EXT-DATA:ephemeral": props.get("ephemeral") or 0,
            "rxtx_factor": props.get("rxtx_factor") or 1.0,
            "os-flavor-access:is_public": props.get("is_public", True),
        }
        if props.get("flavorid"):
            body["id"] = props["flavorid"]
        created = await self.cloud.request(
            "compute", "POST", "/flavors", json_body={"flavor": body}, headers=NOVA_VERSION
        )
        self.physical_id = str(created["flavor"]["id"])
        if props.get("extra_specs"):
            await self.cloud.request(
                "compute",
                "POST",
                f"/flavors/{self.physical_id}/os-extra_specs",
                json_body={"extra_specs": props["extra_specs"]},
            )

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        await self.cloud.request(
            "compute",
            "POST",
            f"/flavors/{self.physical_id}/os-extra_specs",
            json_body={"extra_specs": new.get("extra_specs") or {}},
        )
        self.properties = new
