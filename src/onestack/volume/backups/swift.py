"""Backups in the cloud's object storage, as Cinder's swift backup driver keeps them.

A backup's chunks (compressed, each with its SHA-256 in the manifest: see
``engine.py``) and its manifest are objects ``backup_<backup id>/<name>`` in
a container (``--container``, else ``volume.backup_swift_container``,
``volumebackups`` by default) of the account of the project that owns the
volume, so the owner sees them in its own object storage.  The volume agent
writes them through the Object Storage API as the volume service's user
(``cinder``, which holds ``ResellerAdmin`` to reach every project's account)
with ``onestack.common.keystone_client``; each object is sent with its MD5
as ``ETag``, which the object server checks.  Deleting a backup deletes its
objects (the container stays, as Cinder leaves it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.volume.backups.base import BackupPlace, BackupStore
from onestack.volume.exceptions import BackupStoreUnavailable


class SwiftBackupStore(BackupStore):
    service_name = "cinder.backup.drivers.swift.SwiftBackupDriver"

    def __init__(self, session: Callable[[], KeystoneSession], container: str) -> None:
        self._session_factory = session
        self._session: KeystoneSession | None = None
        self.container = container
        self._made: set[tuple[str, str]] = set()

    @property
    def session(self) -> KeystoneSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _account(self, place: BackupPlace) -> str:
        """The account URL of the backup's project (the service's own without one)."""
        endpoint = self.session.endpoint("object")
        if place.project_id is None:
            return endpoint
        return f"{endpoint.rsplit('/', 1)[0]}/AUTH_{place.project_id}"

    def _call(
        self,
        place: BackupPlace,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = self._account(place) + path
        try:
            return self.session.raw("object", method, url, content=content, headers=headers)
        except ServiceError as exc:
            raise BackupStoreUnavailable(reason=exc.message) from None

    def _check(self, response: httpx.Response, what: str, ok: tuple[int, ...]) -> None:
        if response.status_code not in ok:
            raise BackupStoreUnavailable(reason=f"{what}: HTTP {response.status_code}")

    def _container(self, place: BackupPlace) -> str:
        return quote(self.container_of(place), safe="")

    def _object(self, place: BackupPlace, backup_id: str, name: str) -> str:
        return f"/{self._container(place)}/{quote(f'backup_{backup_id}/{name}')}"

    def _ensure_container(self, place: BackupPlace) -> None:
        key = (place.project_id or "", self.container_of(place))
        if key in self._made:
            return
        response = self._call(place, "PUT", f"/{self._container(place)}")
        self._check(response, f"container {key[1]}", (201, 202, 204))
        self._made.add(key)

    def put(self, place: BackupPlace, backup_id: str, name: str, data: bytes) -> None:
        self._ensure_container(place)
        headers = {
            "ETag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "Content-Type": "application/octet-stream",
        }
        response = self._call(
            place, "PUT", self._object(place, backup_id, name), content=data, headers=headers
        )
        self._check(response, f"writing {name} of backup {backup_id}", (201,))

    def get(self, place: BackupPlace, backup_id: str, name: str) -> bytes:
        response = self._call(place, "GET", self._object(place, backup_id, name))
        if response.status_code == 404:
            raise FileNotFoundError(f"backup {backup_id}: {name}")
        self._check(response, f"reading {name} of backup {backup_id}", (200,))
        return response.content

    def _listing(self, place: BackupPlace, backup_id: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        marker = ""
        prefix = quote(f"backup_{backup_id}/")
        while True:
            path = f"/{self._container(place)}?format=json&prefix={prefix}&marker={quote(marker)}"
            response = self._call(place, "GET", path)
            if response.status_code == 404:
                return entries
            self._check(response, f"listing backup {backup_id}", (200, 204))
            page = response.json() if response.content else []
            if not page:
                return entries
            entries.extend(page)
            marker = str(page[-1]["name"])

    def delete(self, place: BackupPlace, backup_id: str) -> None:
        for entry in self._listing(place, backup_id):
            path = f"/{self._container(place)}/{quote(str(entry['name']))}"
            response = self._call(place, "DELETE", path)
            self._check(response, f"deleting {entry['name']}", (204, 404))

    def exists(self, place: BackupPlace, backup_id: str, name: str) -> bool:
        response = self._call(place, "HEAD", self._object(place, backup_id, name))
        return response.status_code == 200

    def used_bytes(self, place: BackupPlace, backup_id: str) -> int:
        return sum(int(entry.get("bytes", 0)) for entry in self._listing(place, backup_id))
