"""The console proxies: noVNC (6080) and the serial console (6083), Nova's novncproxy and
serialproxy.

The noVNC proxy serves Debian's noVNC page (package ``novnc``, from
``/usr/share/novnc``; nothing from a CDN) and, on the websocket at ``/`` (or
``/websockify``), relays RFB between the browser and the server's VNC
socket.  The serial proxy relays a websocket at ``/`` to the server's serial
port.  Both take the console token from the URL's ``token`` query and ask
``ConsoleManager.connect`` what it opens: a refused token gets an HTTP 403
before the websocket is accepted.  Data goes through unchanged, as binary
frames (the ``binary`` subprotocol when the client asks for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from onestack.common.exceptions import OneStackError
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.compute.consoles import ConsoleManager
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)

NOVNC_DIR = Path("/usr/share/novnc")
CHUNK = 65536


async def relay(websocket: WebSocket, manager: ConsoleManager, console_type: str) -> None:
    """Check the token, then pump bytes between the websocket and the console socket."""
    token = websocket.query_params.get("token", "")
    try:
        target = await manager.connect(token, console_type)
        reader, writer = await asyncio.open_unix_connection(target.socket)
    except (OneStackError, OSError) as exc:
        LOG.info("console proxy: %s connection refused: %s", console_type, exc)
        await websocket.close(code=1008)
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol="binary" if "binary" in offered else None)

    async def to_console() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode()
            writer.write(data)
            await writer.drain()

    async def to_browser() -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return
            await websocket.send_bytes(data)

    tasks = [asyncio.create_task(to_console()), asyncio.create_task(to_browser())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, OSError):
                await task
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        with contextlib.suppress(RuntimeError):
            await websocket.close()


def _manager(cloud: Cloud) -> ConsoleManager:
    from onestack.compute.manager import ComputeManager

    compute = cloud.services.find("compute", ComputeManager)
    if compute is None:
        raise RuntimeError("the console proxies need the compute service")
    return compute.consoles


def build_novnc_app(cloud: Cloud) -> Any:
    manager = _manager(cloud)

    async def websocket(ws: WebSocket) -> None:
        await relay(ws, manager, "novnc")

    async def missing(request: Request) -> Response:
        return PlainTextResponse(
            "noVNC is not installed on this host (Debian package novnc)", status_code=404
        )

    routes: list[Any] = [WebSocketRoute("/", websocket), WebSocketRoute("/websockify", websocket)]
    if NOVNC_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=NOVNC_DIR, follow_symlink=True)))
    else:
        routes.append(Route("/{path:path}", missing))
    return Starlette(routes=routes)


def build_serial_app(cloud: Cloud) -> Any:
    manager = _manager(cloud)

    async def websocket(ws: WebSocket) -> None:
        await relay(ws, manager, "serial")

    async def page(request: Request) -> Response:
        return PlainTextResponse("onestack serial console proxy: connect a websocket with ?token=")

    return Starlette(routes=[WebSocketRoute("/", websocket), Route("/", page)])


NOVNC_PLUGIN = ServicePlugin(name="novncproxy", package=None, build_app=build_novnc_app)
SERIAL_PLUGIN = ServicePlugin(name="serialproxy", package=None, build_app=build_serial_app)
