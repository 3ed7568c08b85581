"""The ``remote`` backend: a ring device on a storage node, reached over HTTP (Swift's
proxy-to-object-server hop).

A ring device with an ``address`` (``host:port``) lives on a storage node
(``onestack.object.storage_node``, on a host joined with the ``object`` role);
``onestack.object.devices.RingDevices`` gives the proxy a :class:`RemoteDevice`
for it and a disk device for a device without one.  A node that does not answer within
``timeout`` seconds is unavailable: reads find nothing there, writes fail with
``OSError`` and go to handoff devices (``ObjectStore``), and the replicator
moves them back once the node answers again.

Wire (JSON unless said otherwise; ``<obj>`` is ``<part>/<hash>``):

=====================================================  ====================================
``GET  /devices/<dev>``                                200 when the device is mounted
``GET  /devices/<dev>/objects/<obj>``                  the replica's state, or 404
``GET  /devices/<dev>/objects/<obj>/data/<ts>``        the bytes; metadata in a header
``PUT  /devices/<dev>/objects/<obj>/data/<ts>``        a new data version (body: the bytes)
``GET|PUT /devices/<dev>/objects/<obj>/<kind>/<ts>``   a ``meta`` or ``ts`` document
``DELETE /devices/<dev>/objects/<obj>``                forget the object here
``POST /devices/<dev>/objects/<obj>/quarantine``       set it aside
``GET  /devices/<dev>/partitions[/<part>]``            partitions, or a partition's hashes
=====================================================  ====================================

A data version is spooled to a local temporary file and sent on ``commit``.
"""

from __future__ import annotations

import base64
import http.client
import json
import tempfile
from typing import IO, Any, cast

from onestack.object.backend import (
    CorruptObject,
    DeviceCapabilities,
    Document,
    ObjectDevice,
    ReplicaData,
    ReplicaState,
    ReplicaWriter,
)

METADATA_HEADER = "X-Onestack-Metadata"
CAPABILITIES = DeviceCapabilities(durable=True)


def encode_metadata(metadata: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(metadata).encode()).decode()


def decode_metadata(value: str) -> dict[str, Any]:
    data = json.loads(base64.b64decode(value))
    if not isinstance(data, dict):
        raise ValueError("metadata must be an object")
    return data


class RemoteWriter(ReplicaWriter):
    def __init__(self, device: RemoteDevice, part: int, name_hash: str) -> None:
        self.device = device
        self.path = f"{part}/{name_hash}"
        # closed by commit or abort
        self.spool: IO[bytes] | None = tempfile.TemporaryFile(prefix="onestack-object-")  # noqa: SIM115
        self.failed: OSError | None = None

    def write(self, chunk: bytes) -> None:
        if self.spool is None or self.failed is not None:
            return
        try:
            self.spool.write(chunk)
        except OSError as exc:
            self.failed = exc

    def commit(self, timestamp: str, metadata: dict[str, Any]) -> None:
        if self.failed is not None:
            raise self.failed
        if self.spool is None:
            raise OSError("the writer was aborted")
        length = self.spool.tell()
        self.spool.seek(0)
        headers = {METADATA_HEADER: encode_metadata(metadata), "Content-Length": str(length)}
        status, body = self.device.request(
            "PUT", f"objects/{self.path}/data/{timestamp}", self.spool, headers
        )
        self.abort()
        if status != 201:
            raise OSError(f"{self.device.name}: PUT answered {status}: {body[:200]!r}")

    def abort(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


class RemoteDevice(ObjectDevice):
    def __init__(self, name: str, address: str, timeout: float = 5.0) -> None:
        self.name = name
        self.address = address
        self.timeout = timeout

    def _connection(self) -> http.client.HTTPConnection:
        host, _, port = self.address.rpartition(":")
        return http.client.HTTPConnection(host, int(port), timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body); OSError when the node cannot be reached."""
        connection = self._connection()
        try:
            connection.request(method, f"/devices/{self.name}/{path}".rstrip("/"), body,
                               headers or {})  # fmt: skip
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError) as exc:
            raise OSError(f"storage node {self.address}: {exc}") from exc
        finally:
            connection.close()

    def _json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise OSError(f"{self.name}: GET {path} answered {status}")
        return json.loads(body)

    @property
    def capabilities(self) -> DeviceCapabilities:
        return CAPABILITIES

    @property
    def available(self) -> bool:
        try:
            return self.request("GET", "")[0] == 200
        except OSError:
            return False

    def state(self, part: int, name_hash: str) -> ReplicaState | None:
        try:
            found = self._json(f"objects/{part}/{name_hash}")
        except (OSError, ValueError):
            return None
        if not isinstance(found, dict):
            return None
        return ReplicaState(
            device=self.name,
            timestamp=str(found["timestamp"]),
            deleted=bool(found["deleted"]),
            meta_timestamp=found.get("meta_timestamp"),
        )

    def open_data(self, part: int, name_hash: str, timestamp: str) -> ReplicaData:
        connection = self._connection()
        try:
            connection.request("GET", f"/devices/{self.name}/objects/{part}/{name_hash}"
                                      f"/data/{timestamp}")  # fmt: skip
            response = connection.getresponse()
        except (http.client.HTTPException, OSError) as exc:
            connection.close()
            raise FileNotFoundError(f"storage node {self.address}: {exc}") from exc
        if response.status == 404:
            connection.close()
            raise FileNotFoundError(f"{self.name}: no data {timestamp}")
        if response.status != 200:
            connection.close()
            raise CorruptObject(f"{self.name}: data {timestamp} answered {response.status}")
        try:
            metadata = decode_metadata(response.getheader(METADATA_HEADER) or "")
            length = int(response.getheader("Content-Length") or "0")
        except ValueError as exc:
            connection.close()
            raise CorruptObject(f"{self.name}: {exc}") from exc
        body = cast(IO[bytes], _Body(response, connection))  # read, seek forward, close
        return ReplicaData(metadata=metadata, length=length, handle=body)

    def read_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str
    ) -> dict[str, Any]:
        try:
            found = self._json(f"objects/{part}/{name_hash}/{kind}/{timestamp}")
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def writer(self, part: int, name_hash: str) -> ReplicaWriter:
        if not self.available:
            raise OSError(f"storage node {self.address} of {self.name} does not answer")
        return RemoteWriter(self, part, name_hash)

    def put_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str, document: dict[str, Any]
    ) -> None:
        body = json.dumps(document).encode()
        status, answer = self.request(
            "PUT", f"objects/{part}/{name_hash}/{kind}/{timestamp}", body,
            {"Content-Type": "application/json"},
        )  # fmt: skip
        if status != 201:
            raise OSError(f"{self.name}: PUT {kind} answered {status}: {answer[:200]!r}")

    def partitions(self) -> list[int]:
        found = self._json("partitions")
        return [int(p) for p in found or []]

    def hashes(self, part: int) -> list[str]:
        found = self._json(f"partitions/{part}")
        return [str(h) for h in found or []]

    def remove(self, part: int, name_hash: str) -> None:
        status, _ = self.request("DELETE", f"objects/{part}/{name_hash}")
        if status not in (204, 404):
            raise OSError(f"{self.name}: DELETE answered {status}")

    def quarantine(self, part: int, name_hash: str) -> None:
        status, _ = self.request("POST", f"objects/{part}/{name_hash}/quarantine")
        if status not in (204, 404):
            raise OSError(f"{self.name}: quarantine answered {status}")


class _Body:
    """A response body read like a file (forward seeks skip bytes); closing it closes the
    connection."""

    def __init__(self, response: http.client.HTTPResponse,
                 connection: http.client.HTTPConnection) -> None:  # fmt: skip
        self.response = response
        self.connection = connection
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.response.read(None if size < 0 else size)
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < self.position:
            raise OSError("a remote replica is read forward only")
        while self.position < offset:
            if not self.read(min(1 << 20, offset - self.position)):
                break
        return self.position

    def close(self) -> None:
        self.response.close()
        self.connection.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
