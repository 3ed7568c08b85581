"""The metadata service at ``http://169.254.169.254`` inside tenant networks.

One listening socket per DHCP namespace (instances route 169.254.169.254
to the DHCP port, DHCP option 121) and per router namespace (169.254.169.254
on the router's loopback).  The sockets are opened inside those namespaces
and served by this process's event loop.  Who is asking is decided by the
namespace the request arrived in and its source address (anti-spoofing
makes that trustworthy); the answer comes from the MetadataProvider that
compute registers.  Paths: ``/openstack/<version>/{meta_data.json,
user_data, network_data.json, vendor_data.json}`` and the EC2-style
``/<version>/{meta-data/..., user-data}``.

Proxied paths: a request under a prefix of ``proxies`` (``/heat/`` → the
orchestration API, so that wait condition signals reach it from isolated
tenant networks) is forwarded, method, body and ``X-Auth-Token``/``Content-Type``
headers unchanged, to that API; its answer is passed back.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from onestack.network.drivers.linux.commands import NETNS_DIR
from onestack.network.interface import InstanceMetadata

LOG = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest")  # fmt: skip
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04", "latest")  # fmt: skip

#: (namespace, source address) -> (instance id, local ipv4, floating ipv4) or None
Resolver = Callable[[str, str], tuple[str, str, str | None] | None]
Provider = Callable[[str], InstanceMetadata | None]


def socket_in_netns(netns: str, address: str, port: int) -> socket.socket:
    """A listening TCP socket bound inside the named namespace."""
    result: dict[str, Any] = {}

    def worker() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            fd = os.open(NETNS_DIR / netns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: the address may come later
            sock.bind((address, port))
            sock.listen(128)
            sock.setblocking(False)
            result["sock"] = sock
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=worker, name=f"netns-{netns}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    sock: socket.socket = result["sock"]
    return sock


def render(
    path: str, data: InstanceMetadata, local_ip: str, floating: str | None
) -> tuple[int, str, bytes]:
    """(status, content type, body) of one metadata path."""
    text = "text/plain; charset=UTF-8"
    parts = [p for p in path.split("?")[0].split("/") if p]
    if not parts:
        return 200, text, "\n".join([*EC2_VERSIONS, "openstack"]).encode()
    if parts[0] == "openstack":
        if len(parts) == 1:
            return 200, text, "\n".join(OPENSTACK_VERSIONS).encode()
        if parts[1] not in OPENSTACK_VERSIONS:
            return 404, text, b"Not Found"
        files = ["meta_data.json", "network_data.json", "vendor_data.json", "vendor_data2.json"]
        if data.user_data is not None:
            files.append("user_data")
        if len(parts) == 2:
            return 200, text, "\n".join(files).encode()
        name = parts[2]
        if name == "meta_data.json":
            body = {
                "uuid": data.uuid, "name": data.name, "hostname": data.hostname,
                "project_id": data.project_id, "availability_zone": data.availability_zone,
                "launch_index": data.launch_index, "meta": data.meta, "devices": [],
                "public_keys": data.public_keys,
                "keys": [
                    {"name": k, "type": "ssh", "data": v} for k, v in data.public_keys.items()
                ],
            }  # fmt: skip
            return 200, "application/json", json.dumps(body).encode()
        if name == "user_data" and data.user_data is not None:
            return 200, "application/octet-stream", data.user_data
        if name in ("vendor_data.json", "vendor_data2.json"):
            return 200, "application/json", b"{}"
        if name == "network_data.json":
            return 200, "application/json", json.dumps({"links": [], "networks": [],
                                                        "services": []}).encode()  # fmt: skip
        return 404, text, b"Not Found"
    if parts[0] not in EC2_VERSIONS:
        return 404, text, b"Not Found"
    if len(parts) == 1:
        return 200, text, b"meta-data/\nuser-data" if data.user_data else b"meta-data/"
    if parts[1] == "user-data":
        if data.user_data is None:
            return 404, text, b"Not Found"
        return 200, "application/octet-stream", data.user_data
    if parts[1] != "meta-data":
        return 404, text, b"Not Found"
    keys = list(data.public_keys.items())
    tree: dict[str, Any] = {
        "ami-id": "ami-00000001", "ami-launch-index": str(data.launch_index),
        "hostname": data.hostname, "local-hostname": data.hostname,
        "public-hostname": data.hostname, "instance-id": "i-" + data.uuid.replace("-", "")[:8],
        "instance-type": "", "local-ipv4": local_ip, "public-ipv4": floating or "",
        "placement": {"availability-zone": data.availability_zone},
        "public-keys": {f"{i}": {"openssh-key": key} for i, (_, key) in enumerate(keys)},
        "reservation-id": "", "security-groups": "",
    }  # fmt: skip
    node: Any = tree
    for part in parts[2:]:
        if not isinstance(node, dict) or part not in node:
            if isinstance(node, dict) and node is tree["public-keys"] and "=" in part:
                node = node[part.split("=")[0]]
                continue
            return 404, text, b"Not Found"
        node = node[part]
    if isinstance(node, dict):
        if node is tree["public-keys"]:
            lines = [f"{i}={name}" for i, (name, _) in enumerate(keys)]
        else:
            lines = [f"{k}/" if isinstance(v, dict) else k for k, v in node.items()]
        return 200, text, "\n".join(lines).encode()
    return 200, text, str(node).encode()


class MetadataServers:
    """Listening sockets in namespaces, all served by one asyncio loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        resolve: Resolver,
        provider: Callable[[], Any],
        proxies: dict[str, str] | None = None,
    ) -> None:
        self.loop = loop
        self.resolve = resolve
        self.provider = provider
        #: path prefix -> base URL of the API it is forwarded to
        self.proxies = dict(proxies or {})
        self.servers: dict[str, asyncio.base_events.Server] = {}

    def ensure(self, netns: str) -> None:
        """Listen in ``netns`` (call from any thread)."""
        if netns in self.servers:
            return
        sock = socket_in_netns(netns, "169.254.169.254", 80)
        future = asyncio.run_coroutine_threadsafe(self._serve(netns, sock), self.loop)
        self.servers[netns] = future.result(10)

    async def _serve(self, netns: str, sock: socket.socket) -> asyncio.base_events.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._handle(netns, reader, writer)

        return await asyncio.start_server(handle, sock=sock)

    def discard(self, keep: set[str]) -> None:
        for netns in list(self.servers):
            if netns not in keep:
                server = self.servers.pop(netns)
                self.loop.call_soon_threadsafe(server.close)

    def close(self) -> None:
        self.discard(set())

    async def _handle(
        self, netns: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            line = request.split(b"\r\n", 1)[0].decode("latin-1").split()
            method, path = (line[0], line[1]) if len(line) >= 2 else ("GET", "/")
            peer = writer.get_extra_info("peername")[0]
            upstream = next((p for p in self.proxies if path.startswith(p)), None)
            if upstream is not None:
                status, ctype, body = await self._proxy(upstream, method, path, request, reader)
            else:
                status, ctype, body = await asyncio.get_running_loop().run_in_executor(
                    None, self._answer, netns, peer, path
                )
            body_out = b"" if method == "HEAD" else body
            reasons = {200: "OK", 202: "Accepted", 204: "No Content", 401: "Unauthorized",
                       404: "Not Found", 405: "Method Not Allowed"}  # fmt: skip
            reason = reasons.get(status, "Error")
            head = (
                f"HTTP/1.0 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body_out)
            await writer.drain()
        except (
            TimeoutError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            # the client went away or sent garbage
            pass
        except Exception:
            LOG.exception("metadata request in %s failed", netns)
        finally:
            writer.close()

    async def _proxy(
        self, prefix: str, method: str, path: str, head: bytes, reader: asyncio.StreamReader
    ) -> tuple[int, str, bytes]:
        import httpx

        headers: dict[str, str] = {}
        for raw in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = raw.partition(":")
            if name.strip().lower() in ("x-auth-token", "content-type", "accept", "content-length"):
                headers[name.strip()] = value.strip()
        length = int(headers.pop("Content-Length", headers.pop("content-length", "0")) or 0)
        body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
        url = self.proxies[prefix].rstrip("/") + "/" + path[len(prefix) :]
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.request(method, url, headers=headers, content=body)
        except httpx.HTTPError:
            LOG.exception("metadata proxy to %s failed", url)
            return 502, "text/plain", b"Bad Gateway"
        return (
            answer.status_code,
            answer.headers.get("content-type", "application/octet-stream"),
            answer.content,
        )

    def _answer(self, netns: str, peer: str, path: str) -> tuple[int, str, bytes]:
        found = self.resolve(netns, peer)
        provider = self.provider()
        if found is None or provider is None:
            return 404, "text/plain", b"Not Found"
        instance_id, local_ip, floating = found
        data = provider.instance_metadata(instance_id)
        if data is None:
            return 404, "text/plain", b"Not Found"
        return render(path, data, local_ip, floating)
