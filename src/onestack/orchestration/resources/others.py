"""Image, object storage and identity resources: Glance WebImage, Swift Container,
Keystone Project, User and Role (administrators)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from onestack.orchestration.exceptions import ResourceFailure
from onestack.orchestration.resources.base import Prop
from onestack.orchestration.resources.common import ApiResource


class WebImage(ApiResource):
    """The engine downloads ``location`` itself and uploads the bytes (the image service
    here imports by upload only)."""

    type_name = "OS::Glance::WebImage"
    service = "image"
    description = "An image whose data is fetched from a URL."
    properties_schema = {
        "name": Prop("string"),
        "location": Prop("string", "URL of the image data.", required=True),
        "disk_format": Prop(
            "string",
            required=True,
            allowed=(
                "ami",
                "ari",
                "aki",
                "vhd",
                "vhdx",
                "vmdk",
                "raw",
                "qcow2",
                "vdi",
                "iso",
                "ploop",
            ),
        ),
        "container_format": Prop("string", default="bare"),
        "min_disk": Prop("integer", default=0),
        "min_ram": Prop("integer", default=0),
        "protected": Prop("boolean", default=False),
        "visibility": Prop(
            "string", default="private", allowed=("public", "private", "community", "shared")
        ),
        "tags": Prop("list", default=[]),
        "id": Prop("string"),
        "architecture": Prop("string"),
        "os_distro": Prop("string"),
    }
    attributes_schema = {"status": "", "checksum": "", "size": "", "show": ""}

    async def create(self) -> None:
        props = self.properties
        body: dict[str, Any] = {"name": props.get("name") or self.physical_name()}
        for key in (
            "disk_format",
            "container_format",
            "min_disk",
            "min_ram",
            "protected",
            "visibility",
            "tags",
            "id",
            "architecture",
            "os_distro",
        ):
            if props.get(key) is not None:
                body[key] = props[key]
        created = await self.cloud.request("image", "POST", "/v2/images", json_body=body)
        self.physical_id = str(created["id"])
        async with httpx.AsyncClient(timeout=300, follow_redirects=True) as client:
            response = await client.get(props["location"])
            if response.status_code != 200:
                raise ResourceFailure(
                    f"Could not fetch {props['location']}: {response.status_code}"
                )
            data = response.content
        await self.cloud.request(
            "image",
            "PUT",
            f"/v2/images/{self.physical_id}/file",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    async def show(self) -> dict[str, Any] | None:
        if not self.physical_id:
            return None
        found = await self.cloud.request(
            "image", "GET", f"/v2/images/{self.physical_id}", missing_ok=True
        )
        return found if isinstance(found, dict) else None

    def member(self) -> str:
        return f"/v2/images/{self.physical_id}"


class Container(ApiResource):
    type_name = "OS::Swift::Container"
    service = "object"
    description = "An object storage container."
    properties_schema = {
        "name": Prop("string"),
        "X-Container-Read": Prop("string"),
        "X-Container-Write": Prop("string"),
        "X-Container-Meta": Prop("map", default={}),
        "X-Account-Meta": Prop("map", default={}),
        "PurgeOnDelete": Prop("boolean", default=False),
    }
    attributes_schema = {
        "DomainName": "",
        "WebsiteURL": "",
        "RootURL": "",
        "ObjectCount": "",
        "BytesUsed": "",
        "HeadContainer": "",
    }

    def _path(self) -> str:
        return "/" + quote(self.physical_id or "", safe="")

    async def create(self) -> None:
        name = self.properties.get("name") or self.physical_name()
        headers = {
            f"X-Container-Meta-{k}": str(v)
            for k, v in (self.properties.get("X-Container-Meta") or {}).items()
        }
        for key in ("X-Container-Read", "X-Container-Write"):
            if self.properties.get(key):
                headers[key] = self.properties[key]
        self.physical_id = name
        await self.cloud.request("object", "PUT", self._path(), headers=headers, ok=(201, 202, 204))

    async def delete(self) -> None:
        if not self.physical_id:
            return
        if self.properties.get("PurgeOnDelete"):
            listing = await self.cloud.request(
                "object", "GET", self._path(), params={"format": "json"}, missing_ok=True
            )
            for item in listing or []:
                await self.cloud.request(
                    "object", "DELETE", f"{self._path()}/{quote(item['name'])}", missing_ok=True
                )
        await self.cloud.request("object", "DELETE", self._path(), missing_ok=True, ok=(204,))

    async def refresh(self) -> None:
        base = await self.cloud.endpoint("object")
        host = base.split("://", 1)[-1].split("/", 1)[0]
        self.attrs.update(DomainName=host, WebsiteURL=f"{base}{self._path()}", RootURL=f"{base}/")

    async def adopt_by_name(self) -> str | None:
        return self.state.physical_name


class _Identity(ApiResource):
    service = "identity"
    admin_only = True


class Project(_Identity):
    type_name = "OS::Keystone::Project"
    description = "A project (administrators only)."
    collection = "/projects"
    key = "project"
    properties_schema = {
        "name": Prop("string", update_allowed=True),
        "domain": Prop("string", default="default"),
        "description": Prop("string", default="", update_allowed=True),
        "enabled": Prop("boolean", default=True, update_allowed=True),
        "parent": Prop("string"),
        "tags": Prop("list", default=[], update_allowed=True),
    }
    attributes_schema = {
        "name": "",
        "domain_id": "",
        "enabled": "",
        "parent_id": "",
        "is_domain": "",
    }

    async def create(self) -> None:
        props = self.properties
        body = {
            "name": props.get("name") or self.physical_name(),
            "domain_id": props["domain"],
            "description": props.get("description") or "",
            "enabled": props.get("enabled", True),
            "tags": props.get("tags") or [],
        }
        if props.get("parent"):
            body["parent_id"] = props["parent"]
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = {k: new.get(k) for k in changed if k in ("description", "enabled", "tags")}
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        await self.cloud.request("identity", "PATCH", self.member(), json_body={"project": body})
        self.properties = new

    async def delete(self) -> None:
        if self.physical_id:
            await self.cloud.request(
                "identity",
                "PATCH",
                self.member(),
                json_body={"project": {"enabled": False}},
                missing_ok=True,
            )
        await super().delete()


class User(_Identity):
    type_name = "OS::Keystone::User"
    description = "A user (administrators only)."
    collection = "/users"
    key = "user"
    properties_schema = {
        "name": Prop("string", update_allowed=True),
        "domain": Prop("string", default="default"),
        "password": Prop("string", update_allowed=True),
        "email": Prop("string", update_allowed=True),
        "default_project": Prop("string", update_allowed=True),
        "description": Prop("string", default="", update_allowed=True),
        "enabled": Prop("boolean", default=True, update_allowed=True),
        "roles": Prop(
            "list",
            default=[],
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "role": Prop("string", required=True),
                        "project": Prop("string"),
                        "domain": Prop("string"),
                    },
                )
            },
        ),
        "groups": Prop("list", default=[]),
    }
    attributes_schema = {"name": "", "domain_id": "", "enabled": "", "default_project_id": ""}

    async def create(self) -> None:
        props = self.properties
        body: dict[str, Any] = {
            "name": props.get("name") or self.physical_name(),
            "domain_id": props["domain"],
            "enabled": props.get("enabled", True),
            "description": props.get("description") or "",
        }
        for key, target in (
            ("password", "password"),
            ("email", "email"),
            ("default_project", "default_project_id"),
        ):
            if props.get(key):
                body[target] = props[key]
        await self.post(body)
        for grant in props.get("roles") or []:
            target = (
                f"/projects/{grant['project']}"
                if grant.get("project")
                else f"/domains/{grant.get('domain')}"
            )
            await self.cloud.request(
                "identity", "PUT", f"{target}/users/{self.physical_id}/roles/{grant['role']}"
            )

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = {
            k: new.get(k) for k in changed if k in ("email", "description", "enabled", "password")
        }
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if "default_project" in changed:
            body["default_project_id"] = new.get("default_project")
        await self.cloud.request("identity", "PATCH", self.member(), json_body={"user": body})
        self.properties = new


class Role(_Identity):
    type_name = "OS::Keystone::Role"
    description = "A role (administrators only)."
    collection = "/roles"
    key = "role"
    properties_schema = {"name": Prop("string"), "domain": Prop("string")}
    attributes_schema = {"name": ""}

    async def create(self) -> None:
        body: dict[str, Any] = {"name": self.properties.get("name") or self.physical_name()}
        if self.properties.get("domain"):
            body["domain_id"] = self.properties["domain"]
        await self.post(body)
