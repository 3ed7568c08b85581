"""The agent's image client and cache against a small stand-in of the identity and
image APIs on loopback: the service token and its renewal, the catalog, streamed
and checked downloads, a cache that only ever holds complete files, uploads
that leave nothing behind when they fail."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from onestack.common.exceptions import NotFound, OverQuota, Unauthorized
from onestack.common.keystone_client import KeystoneSession, service_credentials
from onestack.compute.exceptions import ImageDataInvalid
from onestack.compute.images import HTTPImageClient, ImageCache

DATA = os.urandom(300_000)


@dataclass
class Fake:
    """What the stand-in serves and what it saw."""

    url: str = ""
    tokens: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    downloads: int = 0
    refuse_uploads: bool = False


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            token = self.headers.get("X-Auth-Token")
            if token not in fake.tokens or token in fake.revoked:
                self._send(401, b'{"error": "token"}')
                return False
            return True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_POST(self) -> None:
            if self.path == "/v3/auth/tokens":
                auth = json.loads(self._body())["auth"]["identity"]["password"]["user"]
                if auth["password"] != "secret":
                    self._send(401, b'{"error": "password"}')
                    return
                token = f"tok-{len(fake.tokens)}"
                fake.tokens.append(token)
                expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                catalog = [
                    {
                        "type": "image",
                        "endpoints": [
                            {"interface": "public", "region": "RegionOne", "url": "http://nowhere"},
                            {"interface": "internal", "region": "RegionOne", "url": fake.url},
                        ],
                    }
                ]
                body = json.dumps({"token": {"expires_at": expires, "catalog": catalog}})
                self._send(201, body.encode(), {"X-Subject-Token": token})
            elif self.path == "/v2/images" and self._authorized():
                created = json.loads(self._body())
                fake.created.append(created)
                image_id = f"new-{len(fake.created)}"
                self._send(201, json.dumps({"id": image_id, **created}).encode())

        def do_GET(self) -> None:
            if not self._authorized():
                return
            parts = self.path.strip("/").split("/")
            image = fake.images.get(parts[2]) if len(parts) >= 3 else None
            if image is None:
                self._send(404, b"Image not found")
            elif len(parts) == 3:
                self._send(200, json.dumps(image).encode())
            else:
                fake.downloads += 1
                self._send(200, fake.data[parts[2]])

        def do_PUT(self) -> None:
            if not self._authorized():
                return
            body = self._body()
            if fake.refuse_uploads:
                self._send(413, b"Image storage quota exceeded")
                return
            fake.data[self.path.split("/")[3]] = body
            self._send(204)

        def do_DELETE(self) -> None:
            if self._authorized():
                fake.deleted.append(self.path.split("/")[3])
                self._send(204)

    return Handler


@pytest.fixture()
def fake() -> Iterator[Fake]:
    state = Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _session(fake: Fake, password: str = "secret") -> KeystoneSession:
    credentials = service_credentials(
        fake.url + "/v3", "nova", password, "RegionOne", interface="internal"
    )
    return KeystoneSession(credentials, timeout=10)


def _publish(fake: Fake, image_id: str, data: bytes, checksum: str | None = None) -> None:
    fake.data[image_id] = data
    fake.images[image_id] = {
        "id": image_id,
        "name": "busybox",
        "status": "active",
        "size": len(data),
        "checksum": checksum or hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "min_disk": 0,
        "min_ram": 0,
        "visibility": "public",
        "os_distro": "busybox",
        "tags": [],
    }


def test_records_come_with_their_properties(fake: Fake) -> None:
    _publish(fake, "img-1", DATA)
    record = HTTPImageClient(_session(fake)).get_image("img-1")
    assert (record.id, record.size, record.status) == ("img-1", len(DATA), "active")
    assert record.properties == {"os_distro": "busybox"}
    with pytest.raises(NotFound):
        HTTPImageClient(_session(fake)).get_image("gone")


def test_a_wrong_password_is_unauthorized(fake: Fake) -> None:
    with pytest.raises(Unauthorized):
        HTTPImageClient(_session(fake, "wrong")).get_image("img-1")


def test_a_refused_token_is_renewed_once(fake: Fake) -> None:
    _publish(fake, "img-1", DATA)
    client = HTTPImageClient(_session(fake))
    client.get_image("img-1")
    fake.revoked.add(fake.tokens[-1])
    assert client.get_image("img-1").id == "img-1"
    assert len(fake.tokens) == 2


def test_the_cache_downloads_an_image_once(fake: Fake, tmp_path: Path) -> None:
    _publish(fake, "img-1", DATA)
    client = HTTPImageClient(_session(fake))
    cache = ImageCache(tmp_path / "images", client)
    record = client.get_image("img-1")
    assert cache.cached("img-1") is None
    first = cache.fetch(record)
    second = cache.fetch(record)
    assert first == second == cache.cached("img-1")
    assert first.read_bytes() == DATA
    assert fake.downloads == 1


def test_bytes_that_do_not_match_the_checksum_never_enter_the_cache(
    fake: Fake, tmp_path: Path
) -> None:
    _publish(fake, "img-1", DATA, checksum="0" * 32)
    client = HTTPImageClient(_session(fake))
    cache = ImageCache(tmp_path / "images", client)
    with pytest.raises(ImageDataInvalid, match="checksum"):
        cache.fetch(client.get_image("img-1"))
    assert list((tmp_path / "images").iterdir()) == []


def test_prune_keeps_images_in_use_and_recent_ones(fake: Fake, tmp_path: Path) -> None:
    client = HTTPImageClient(_session(fake))
    cache = ImageCache(tmp_path / "images", client)
    for image_id in ("used", "old", "recent"):
        _publish(fake, image_id, DATA[:1000])
        cache.fetch(client.get_image(image_id))
    stale = time.time() - 7200
    for image_id in ("used", "old"):
        os.utime(tmp_path / "images" / image_id, (stale, stale))
    assert cache.prune({"used"}, max_age=3600) == ["old"]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["recent", "used"]


def test_a_snapshot_is_uploaded_for_its_owner(fake: Fake, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(DATA)
    client = HTTPImageClient(_session(fake))
    image_id = client.create_image(
        disk, name="snap", owner="p1", properties={"image_type": "snapshot"}, min_disk=1
    )
    assert fake.data[image_id] == DATA
    created = fake.created[0]
    assert (created["owner"], created["visibility"], created["image_type"]) == (
        "p1",
        "private",
        "snapshot",
    )


def test_a_failed_upload_leaves_no_image(fake: Fake, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(DATA)
    fake.refuse_uploads = True
    with pytest.raises(OverQuota):
        HTTPImageClient(_session(fake)).create_image(
            disk, name="snap", owner="p1", properties={}, min_disk=1
        )
    assert fake.deleted == ["new-1"]
