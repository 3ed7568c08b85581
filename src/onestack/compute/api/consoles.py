"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6+) and the legacy actions.

The legacy ``os-getVNCConsole`` and ``os-getSerialConsole`` actions exist up
to microversion 2.5, as in Nova; SPICE, RDP and WebMKS consoles are not
served (400 ``Unavailable console type``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute

router = APIRouter(prefix="/v2.1")

#: legacy action -> its protocol
LEGACY = {
    "os-getVNCConsole": "vnc",
    "os-getSPICEConsole": "spice",
    "os-getRDPConsole": "rdp",
    "os-getSerialConsole": "serial",
}


@router.post("/servers/{server_id}/remote-consoles")
def create_remote_console(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not at_least(version, "2.6"):
        raise NotFound("The resource could not be found.")
    spec = body.get("remote_console") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        raise BadRequest("Invalid input: 'remote_console' is a required property")
    protocol, kind = spec.get("protocol"), spec.get("type")
    if not isinstance(protocol, str) or not isinstance(kind, str):
        raise BadRequest("Invalid input: 'protocol' and 'type' are required properties")
    if kind == "webmks" and not at_least(version, "2.8"):
        raise BadRequest("Invalid input for field/attribute type. Value: webmks.")
    url = compute(request).consoles.create(ctx, server_id, protocol, kind)
    return JSONResponse({"remote_console": {"protocol": protocol, "type": kind, "url": url}})


def legacy_action(
    request: Request,
    server_id: str,
    ctx: RequestContext,
    name: str,
    params: Any,
    version: APIVersion,
) -> JSONResponse:
    """``os-getVNCConsole`` & co. (2.1-2.5): ``{"console": {"type", "url"}}``."""
    if at_least(version, "2.6"):
        raise NotFound(f"There is no such action: {name}")
    kind = params.get("type") if isinstance(params, dict) else None
    if not isinstance(kind, str):
        raise BadRequest("Invalid input: 'type' is a required property")
    url = compute(request).consoles.create(ctx, server_id, LEGACY[name], kind)
    return JSONResponse({"console": {"type": kind, "url": url}})
