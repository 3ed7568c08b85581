"""Container sync: Swift's ``container_sync`` middleware and its container-sync daemon.

A container given ``X-Container-Sync-To: //<realm>/<cluster>/<account>/<container>``
and ``X-Container-Sync-Key: <key>`` is mirrored into that container by the
``container-sync`` pass (``object.container_sync_interval``): every object written
or deleted in it since the container's sync point is sent to the target cluster's
endpoint over HTTP, as a ``PUT`` (bytes, content type, metadata, ETag) or a
``DELETE``, carrying the version's own ``X-Timestamp``.

Each request is signed ``X-Container-Sync-Auth: <realm> <nonce> <sig>``, where
``sig`` is the HMAC-SHA1, keyed by the realm's key, of
``method\\npath\\nx-timestamp\\nnonce\\nuser-key``; the receiving cluster checks it
with its own realm key and the *target* container's sync key (so both containers
carry the same key) and then lets the request through without a token.

An object the target already holds at the same or a newer timestamp is skipped,
so two containers synced to each other do not send the same version back and
forth.  The sync point only moves past rows older than ``SETTLE`` seconds: an
upload that records its row a little late is still seen.  A row that fails
(target down, 401) stops the pass for that container; the next pass retries it.

Limits: only the realm form (a full URL is refused with 400, as Swift with
``allow_full_urls = false``); one realm per cloud (``object.sync_realm``, with
this cloud as ``object.sync_cluster`` and others in ``object.sync_realm_clusters``);
a large object manifest is sent as its assembled content; a static symlink
arrives as a dynamic one (its target may not be there yet).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, OneStackError
from onestack.object.acl import Caller
from onestack.object.conf import ObjectSettings
from onestack.object.core import ObjectCore
from onestack.object.models import Container, ObjectRow
from onestack.object.reader import open_read
from onestack.object.timestamps import format_timestamp

LOG = logging.getLogger(__name__)

#: seconds a row must be old before the sync point moves past it
SETTLE = 60.0
#: rows one pass sends per container
BATCH = 1000
#: headers of the stored object a sync PUT carries (a link is sent as a link)
SENT_HEADERS = (
    "content-encoding",
    "content-disposition",
    "x-delete-at",
    "x-symlink-target",
    "x-symlink-target-account",
)


class SyncAuthInvalid(OneStackError):
    code = 401
    title = "Unauthorized"
    msg_fmt = "X-Container-Sync-Auth header not valid; contact cluster operator for support."


@dataclass(frozen=True)
class SyncRealm:
    """The realm this cloud belongs to: its key and its clusters' endpoints."""

    name: str
    key: str
    current: str
    #: cluster name (upper case) -> its Swift endpoint up to and with ``/v1/``
    clusters: dict[str, str] = field(default_factory=dict)

    def key_for(self, realm: str) -> str | None:
        return self.key if realm.upper() == self.name.upper() else None

    def endpoint(self, realm: str, cluster: str) -> str | None:
        if self.key_for(realm) is None:
            return None
        return self.clusters.get(cluster.upper())

    def info(self) -> dict[str, Any]:
        """``realms`` of ``/info``'s ``container_sync``, as Swift lists them."""
        clusters: dict[str, dict[str, Any]] = {name: {} for name in self.clusters}
        clusters[self.current.upper()]["current"] = True
        return {self.name.upper(): {"clusters": clusters}}


def load_realm(conf: ObjectSettings, root: Path, own_endpoint: str) -> SyncRealm | None:
    """The configured realm (None without one); an empty key is made once and kept
    in ``<root>/sync-realm.key``."""
    if not conf.sync_realm or not conf.sync_cluster:
        return None
    key = conf.sync_realm_key
    if not key:
        path = root / "sync-realm.key"
        if not path.exists():
            root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            tmp.rename(path)
        key = path.read_text().strip()
    clusters = {name.upper(): url for name, url in conf.sync_realm_clusters.items()}
    clusters[conf.sync_cluster.upper()] = own_endpoint.rstrip("/") + "/"
    return SyncRealm(conf.sync_realm, key, conf.sync_cluster, clusters)


def signature(
    method: str, path: str, timestamp: str, nonce: str, realm_key: str, user_key: str
) -> str:
    """Swift's container sync signature (HMAC-SHA1, hex)."""
    message = "\n".join((method, path, timestamp, nonce, user_key)).encode()
    return hmac.new(realm_key.encode(), message, hashlib.sha1).hexdigest()


def parse_sync_to(value: str, realm: SyncRealm | None) -> tuple[str, str, str, str]:
    """(realm, cluster, account, container) of an X-Container-Sync-To value; 400 when
    it is malformed, a full URL, or names a realm or cluster this cloud does not know."""
    if not value.startswith("//"):
        raise BadRequest(
            "Full URLs are not allowed for X-Container-Sync-To values. Only realm values "
            "of the format //realm/cluster/account/container are allowed."
        )
    parts = value[2:].split("/")
    if len(parts) != 4 or not all(parts):
        raise BadRequest(f"Invalid X-Container-Sync-To format {value!r}")
    name, cluster, account, container = parts
    if realm is None or realm.key_for(name) is None:
        raise BadRequest(f"No realm key for {name!r}")
    if realm.endpoint(name, cluster) is None:
        raise BadRequest(f"No cluster endpoint for {name!r} {cluster!r}")
    return name, cluster, account, container


def verify(
    realm: SyncRealm | None,
    header: str,
    method: str,
    path: str,
    timestamp: str,
    user_key: str | None,
) -> None:
    """Check an ``X-Container-Sync-Auth`` header against the target container's key."""
    parts = header.split()
    if realm is None or len(parts) != 3 or not user_key:
        raise SyncAuthInvalid()
    name, nonce, sig = parts
    realm_key = realm.key_for(name)
    if realm_key is None:
        raise SyncAuthInvalid()
    expected = signature(method, path, timestamp, nonce, realm_key, user_key)
    if not hmac.compare_digest(sig.encode(), expected.encode()):
        raise SyncAuthInvalid()


@dataclass
class SyncStats:
    containers: int = 0
    puts: int = 0
    deletes: int = 0
    skipped: int = 0
    failures: int = 0


class ContainerSync:
    """The container sync pass over every container with a sync target and key."""

    def __init__(self, core: ObjectCore, realm: SyncRealm | None, timeout: float = 30.0) -> None:
        self.core = core
        self.realm = realm
        self.timeout = timeout
        self.caller = Caller(RequestContext.admin("container-sync"))

    def sync_once(self) -> SyncStats:
        stats = SyncStats()
        if self.realm is None:
            return stats
        with httpx.Client(timeout=self.timeout) as client:
            for row in self.core.listings.sync_containers():
                stats.containers += 1
                try:
                    self._sync_container(client, row, stats)
                except (BadRequest, httpx.HTTPError) as exc:
                    stats.failures += 1
                    LOG.warning("container sync of %s/%s: %s", row.account, row.name, exc)
        return stats

    def _sync_container(self, client: httpx.Client, row: Container, stats: SyncStats) -> None:
        assert self.realm is not None and row.sync_to and row.sync_key
        name, cluster, account, container = parse_sync_to(row.sync_to, self.realm)
        endpoint = self.realm.endpoint(name, cluster)
        assert endpoint is not None
        target = _Target(client, endpoint, account, container, name, self.realm.key, row.sync_key)
        settled = format_timestamp(time.time() - SETTLE)
        point = row.sync_point
        for entry in self.core.listings.rows_since(row.id, row.sync_point, BATCH):
            if not self._sync_row(target, row, entry, stats):
                stats.failures += 1
                break
            if entry.timestamp <= settled:
                point = entry.timestamp
        if point != row.sync_point and point is not None:
            self.core.listings.set_sync_point(row.id, point)

    def _sync_row(
        self, target: _Target, row: Container, entry: ObjectRow, stats: SyncStats
    ) -> bool:
        if entry.deleted:
            status = target.send("DELETE", entry.name, entry.timestamp)
            stats.deletes += 1
            return status < 300 or status in (404, 409)
        remote = target.head_timestamp(entry.name)
        if remote is not None and remote >= entry.timestamp:
            stats.skipped += 1
            return True
        try:
            result = open_read(
                self.core, self.caller, row.account, row.name, entry.name, symlink="get"
            )
        except OneStackError:
            # Gone (or expired) since it was listed: its deletion row follows.
            return True
        try:
            stored = result.stored
            if stored.last_changed != entry.timestamp:
                return True
            headers = {"Content-Type": result.content_type}
            for key, value in result.headers.items():
                if key.startswith("x-object-meta-") or key in SENT_HEADERS:
                    headers[key] = value
            if not result.quoted:
                headers["Etag"] = result.etag
            headers["Content-Length"] = str(result.length)
            assert result.body is not None
            body = result.body.read(0, result.length)
            status = target.send("PUT", entry.name, entry.timestamp, headers, body)
        finally:
            result.close()
        stats.puts += 1
        return status < 300 or status == 409


@dataclass
class _Target:
    """The target container at its cluster, and how requests to it are signed."""

    client: httpx.Client
    endpoint: str
    account: str
    container: str
    realm: str
    realm_key: str
    user_key: str

    def _path_url(self, obj: str) -> tuple[str, str]:
        base = httpx.URL(self.endpoint)
        prefix = base.path.rstrip("/")
        path = quote(f"{prefix}/{self.account}/{self.container}/{obj}")
        return path, str(base.copy_with(raw_path=path.encode()))

    def _auth(self, method: str, path: str, timestamp: str) -> dict[str, str]:
        nonce = uuid.uuid4().hex
        sig = signature(method, path, timestamp, nonce, self.realm_key, self.user_key)
        return {"X-Timestamp": timestamp, "X-Container-Sync-Auth": f"{self.realm} {nonce} {sig}"}

    def head_timestamp(self, obj: str) -> str | None:
        path, url = self._path_url(obj)
        # The link itself, not what it points at (the query is not signed).
        url = str(httpx.URL(url).copy_with(raw_path=f"{path}?symlink=get".encode()))
        response = self.client.head(url, headers=self._auth("HEAD", path, "0"))
        if response.status_code == 404:
            return None
        if response.status_code >= 300:
            raise BadRequest(f"HEAD {path} at the sync target answered {response.status_code}")
        return response.headers.get("x-timestamp")

    def send(
        self,
        method: str,
        obj: str,
        timestamp: str,
        headers: dict[str, str] | None = None,
        body: Iterator[bytes] | None = None,
    ) -> int:
        path, url = self._path_url(obj)
        sent = {**(headers or {}), **self._auth(method, path, timestamp)}
        response = self.client.request(method, url, headers=sent, content=body)
        if response.status_code >= 300 and response.status_code not in (404, 409):
            LOG.warning("container sync %s %s: %s", method, path, response.status_code)
        return response.status_code
