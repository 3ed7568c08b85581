"""The central pollster: the services' resources, from their APIs (as an admin).

- ``volume.size`` (GiB) of every volume (``volume``: display_name, volume_type,
  image_id, instance_id);
- ``image.size`` (B) of every image with data (``image``: name, container_format,
  disk_format);
- ``ip.floating`` (1 per floating IP, ``network``);
- ``storage.objects``, ``storage.objects.size`` (B) and
  ``storage.objects.containers`` of every project's object storage account
  (``swift_account``, the project id), from the account's HEAD.

A service that is not in the catalog is skipped; each pollster's failure is
logged and does not stop the others.
"""

from __future__ import annotations

import logging
from typing import Any

from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.telemetry.poller.meters import Sample, sample

LOG = logging.getLogger(__name__)

#: Gnocchi resource type -> the pollster that lists what exists of it
RESOURCE_TYPES = ("volume", "image", "network", "swift_account")


class ServicesPollster:
    def __init__(self, session: KeystoneSession) -> None:
        self.session = session

    def poll(self, now: str) -> tuple[list[Sample], dict[str, set[str]]]:
        """The samples, and per resource type the ids of what exists now (None: unknown)."""
        samples: list[Sample] = []
        present: dict[str, set[str]] = {}
        for resource_type, pollster in (
            ("volume", self._volumes),
            ("image", self._images),
            ("network", self._floating_ips),
            ("swift_account", self._accounts),
        ):
            try:
                found = pollster(now)
            except ServiceError as exc:
                if exc.status != 503:  # 503: the service is not in this cloud
                    LOG.warning("metering: polling %s failed: %s", resource_type, exc)
                continue
            samples.extend(found)
            present[resource_type] = {s.resource_id for s in found}
        return samples, present

    def _pages(self, service: str, path: str, key: str, params: dict[str, Any]) -> list[Any]:
        items: list[Any] = []
        marker: str | None = None
        while True:
            query = dict(params, limit=500)
            if marker:
                query["marker"] = marker
            page = self.session.request(service, "GET", path, params=query)
            batch = page.get(key, [])
            items.extend(batch)
            if len(batch) < 500:
                return items
            marker = batch[-1]["id"]

    def _volumes(self, now: str) -> list[Sample]:
        samples = []
        for volume in self._pages("volume", "/volumes/detail", "volumes", {"all_tenants": "1"}):
            attachments = volume.get("attachments") or []
            image = (volume.get("volume_image_metadata") or {}).get("image_id")
            attributes = {
                "display_name": volume.get("name"),
                "volume_type": volume.get("volume_type"),
                "image_id": image,
                "instance_id": attachments[0].get("server_id") if attachments else None,
            }
            samples.append(
                sample(
                    "volume.size",
                    volume.get("size", 0),
                    volume["id"],
                    now,
                    volume.get("os-vol-tenant-attr:tenant_id"),
                    volume.get("user_id"),
                    attributes,
                )
            )
        return samples

    def _images(self, now: str) -> list[Sample]:
        samples = []
        for image in self._pages("image", "/v2/images", "images", {}):
            if image.get("size") is None:
                continue
            attributes = {
                "name": image.get("name") or "",
                "container_format": image.get("container_format"),
                "disk_format": image.get("disk_format"),
            }
            samples.append(
                sample(
                    "image.size",
                    image["size"],
                    image["id"],
                    now,
                    image.get("owner"),
                    None,
                    attributes,
                )
            )
        return samples

    def _floating_ips(self, now: str) -> list[Sample]:
        page = self.session.request("network", "GET", "/v2.0/floatingips")
        return [
            sample("ip.floating", 1, fip["id"], now, fip.get("project_id"), None)
            for fip in page.get("floatingips", [])
        ]

    def _accounts(self, now: str) -> list[Sample]:
        self.session.endpoint("object")  # 503 when there is no object storage
        projects = self.session.request("identity", "GET", "/projects").get("projects", [])
        samples = []
        base = self.session.endpoint("object")
        root = base.split("/v1/")[0] + "/v1"
        for project in projects:
            response = self.session.raw("object", "HEAD", f"{root}/AUTH_{project['id']}")
            if response.status_code not in (200, 204):
                continue  # an account nobody used yet (or not ours to read)
            headers = response.headers
            for name, header in (
                ("storage.objects", "X-Account-Object-Count"),
                ("storage.objects.size", "X-Account-Bytes-Used"),
                ("storage.objects.containers", "X-Account-Container-Count"),
            ):
                samples.append(
                    sample(
                        name, int(headers.get(header, 0)), project["id"], now, project["id"], None
                    )
                )
        return samples
