"""A storage node: this host's ring devices, served over HTTP to the proxy (Swift's
object server, small).

A host joined with the ``object`` role serves its devices
(``<state_dir>/object/devices/<name>``, Swift's on-disk layout through the
``disk`` backend) on ``object.node_port``; the proxy reaches them with
``backends.remote.RemoteDevice`` (the wire is in that module's docstring).  The
node holds no ring and makes no decision: it stores what it is sent.  Bodies
stream from disk; the bytes of a new version are written to the device as they
arrive and become visible only when complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from onestack.object.backend import CorruptObject, ObjectDevice
from onestack.object.backends.disk import DiskDevices
from onestack.object.backends.remote import METADATA_HEADER, decode_metadata, encode_metadata

OBJ = "/devices/{dev}/objects/{part:int}/{name_hash}"


def build_app(root: Path) -> Starlette:
    devices = DiskDevices(root)

    def device(request: Request) -> ObjectDevice:
        name = str(request.path_params["dev"])
        if "/" in name or name.startswith("."):
            raise ValueError(name)
        return devices(name)

    def mounted(request: Request) -> Response:
        return Response(status_code=200 if device(request).available else 507)

    def state(request: Request) -> Response:
        dev = device(request)
        found = dev.state(request.path_params["part"], request.path_params["name_hash"])
        if found is None:
            return Response(status_code=404)
        return JSONResponse({"timestamp": found.timestamp, "deleted": found.deleted,
                             "meta_timestamp": found.meta_timestamp})  # fmt: skip

    def get_data(request: Request) -> Response:
        dev = device(request)
        args = (request.path_params["part"], request.path_params["name_hash"],
                request.path_params["ts"])  # fmt: skip
        try:
            opened = dev.open_data(*args)
        except FileNotFoundError:
            return Response(status_code=404)
        except CorruptObject:
            return Response(status_code=422)

        def body() -> Iterator[bytes]:
            with opened.handle as handle:
                left = opened.length
                while left > 0:
                    chunk = handle.read(min(1 << 20, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk

        headers = {METADATA_HEADER: encode_metadata(opened.metadata),
                   "Content-Length": str(opened.length)}  # fmt: skip
        return StreamingResponse(body(), headers=headers,
                                 media_type="application/octet-stream")  # fmt: skip

    async def put_data(request: Request) -> Response:
        dev = device(request)
        try:
            metadata = decode_metadata(request.headers.get(METADATA_HEADER, ""))
        except ValueError:
            return Response(status_code=400)
        try:
            writer = dev.writer(request.path_params["part"], request.path_params["name_hash"])
        except OSError:
            return Response(status_code=507)
        try:
            async for chunk in request.stream():
                writer.write(chunk)
            writer.commit(request.path_params["ts"], metadata)
        except OSError:
            writer.abort()
            return Response(status_code=507)
        except BaseException:
            writer.abort()
            raise
        return Response(status_code=201)

    def get_document(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("meta", "ts"):
            return Response(status_code=404)
        found = device(request).read_document(
            request.path_params["part"], request.path_params["name_hash"], kind,
            request.path_params["ts"],
        )  # fmt: skip
        return JSONResponse(found) if found else Response(status_code=404)

    async def put_document(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("meta", "ts"):
            return Response(status_code=404)
        try:
            document: Any = json.loads(await request.body())
        except ValueError:
            return Response(status_code=400)
        try:
            device(request).put_document(
                request.path_params["part"], request.path_params["name_hash"], kind,
                request.path_params["ts"], document,
            )  # fmt: skip
        except OSError:
            return Response(status_code=507)
        return Response(status_code=201)

    def remove(request: Request) -> Response:
        device(request).remove(request.path_params["part"], request.path_params["name_hash"])
        return Response(status_code=204)

    def quarantine(request: Request) -> Response:
        device(request).quarantine(request.path_params["part"], request.path_params["name_hash"])
        return Response(status_code=204)

    def partitions(request: Request) -> Response:
        return JSONResponse(device(request).partitions())

    def hashes(request: Request) -> Response:
        return JSONResponse(device(request).hashes(request.path_params["part"]))

    return Starlette(
        routes=[
            Route("/devices/{dev}", mounted),
            Route(OBJ, state),
            Route(OBJ, remove, methods=["DELETE"]),
            Route(OBJ + "/quarantine", quarantine, methods=["POST"]),
            Route(OBJ + "/data/{ts}", get_data),
            Route(OBJ + "/data/{ts}", put_data, methods=["PUT"]),
            Route(OBJ + "/{kind}/{ts}", get_document),
            Route(OBJ + "/{kind}/{ts}", put_document, methods=["PUT"]),
            Route("/devices/{dev}/partitions", partitions),
            Route("/devices/{dev}/partitions/{part:int}", hashes),
        ]
    )
