"""What resources of the other services share: name-or-id look-ups, and the plain
"POST a collection, GET/PUT/DELETE the member" shape most OpenStack APIs have."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, ClassVar

from onestack.orchestration.exceptions import ResourceFailure, ServiceCallFailed
from onestack.orchestration.resources.base import Resource


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


async def find_id(
    resource: Resource,
    service: str,
    collection: str,
    key: str,
    value: Any,
    *,
    by_id: str | None = None,
    name_field: str = "name",
) -> str:
    """The id of the ``collection`` member named or identified by ``value``."""
    if value is None or value == "":
        raise ResourceFailure(f"No {key} given.")
    text = str(value)
    if is_uuid(text) or by_id:
        found = await resource.cloud.request(
            service, "GET", f"{by_id or collection}/{text}", missing_ok=True
        )
        if found is not None:
            body = found.get(key) if isinstance(found, dict) else None
            if isinstance(body, dict) and body.get("id"):
                return str(body["id"])
    listing = await resource.cloud.request(service, "GET", collection, params={name_field: text})
    items = listing.get(key + "s", []) if isinstance(listing, dict) else []
    matches = [i for i in items if i.get(name_field) == text or i.get("id") == text]
    if not matches:
        raise ServiceCallFailed("NotFound", 404, f"The {key} ({text}) could not be found.")
    if len(matches) > 1:
        raise ServiceCallFailed(
            "PhysicalResourceNameAmbiguity",
            400,
            f"Multiple physical resources were found with name ({text}).",
        )
    return str(matches[0]["id"])


class ApiResource(Resource):
    """A resource that is one member of a collection of another service's API."""

    #: the service type in the catalog, the collection path and the body key
    collection: ClassVar[str] = ""
    key: ClassVar[str] = ""

    def member(self) -> str:
        return f"{self.collection}/{self.physical_id}"

    async def show(self) -> dict[str, Any] | None:
        if not self.physical_id:
            return None
        assert self.service is not None
        found = await self.cloud.request(self.service, "GET", self.member(), missing_ok=True)
        if found is None:
            return None
        body = found.get(self.key) if isinstance(found, dict) else None
        return body if isinstance(body, dict) else None

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.service is not None
        created = await self.cloud.request(
            self.service, "POST", self.collection, json_body={self.key: body}
        )
        item = created[self.key]
        self.physical_id = str(item["id"])
        return dict(item)

    async def put(self, body: dict[str, Any]) -> None:
        assert self.service is not None
        await self.cloud.request(self.service, "PUT", self.member(), json_body={self.key: body})

    async def delete(self) -> None:
        if not self.physical_id:
            return
        assert self.service is not None
        await self.cloud.request(
            self.service, "DELETE", self.member(), missing_ok=True, ok=(200, 202, 204)
        )

    async def wait_gone(self, what: str) -> None:
        async def gone() -> bool | None:
            return True if await self.show() is None else None

        await self.wait_for(gone, what=f"{what} {self.physical_id} to be deleted")

    async def refresh(self) -> None:
        body = await self.show()
        if body is None:
            return
        self.attrs.clear()
        self.attrs.update(body)
        self.attrs["show"] = body

    async def check(self) -> None:
        if await self.show() is None:
            raise ResourceFailure(f"{self.key} {self.physical_id} is gone.")

    async def adopt_by_name(self) -> str | None:
        name = self.state.physical_name
        if not name:
            return None
        assert self.service is not None
        listing = await self.cloud.request(
            self.service, "GET", self.collection, params={"name": name}
        )
        items = listing.get(self.key + "s", []) if isinstance(listing, dict) else []
        return str(items[0]["id"]) if items else None


async def sleep_a_little() -> None:
    await asyncio.sleep(0)
