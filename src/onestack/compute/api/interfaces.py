"""Interfaces of a server (``os-interface``): list, show, attach, detach.

HTTP only: the request's shape is checked here; everything else is the
``InterfaceManager``'s (``compute.interfaces``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute
from onestack.network.interface import NetworkRequest, PortInfo

router = APIRouter(prefix="/v2.1")


def _view(port: PortInfo, version: APIVersion) -> dict[str, Any]:
    """Nova's ``interfaceAttachment`` of one port."""
    body: dict[str, Any] = {
        "port_state": "ACTIVE",
        "fixed_ips": [
            {"subnet_id": ip.subnet_id, "ip_address": ip.address} for ip in port.fixed_ips
        ],
        "port_id": port.id,
        "net_id": port.network_id,
        "mac_addr": port.mac_address,
    }
    if at_least(version, "2.70"):
        body["tag"] = None
    return body


@router.get("/servers/{server_id}/os-interface")
def list_interfaces(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    ports = compute(request).interfaces.list(ctx, server_id)
    return JSONResponse({"interfaceAttachments": [_view(p, version) for p in ports]})


@router.get("/servers/{server_id}/os-interface/{port_id}")
def show_interface(
    request: Request,
    server_id: str,
    port_id: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    port = compute(request).interfaces.show(ctx, server_id, port_id)
    return JSONResponse({"interfaceAttachment": _view(port, version)})


@router.post("/servers/{server_id}/os-interface")
def attach_interface(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    spec = body.get("interfaceAttachment") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        raise BadRequest("Invalid input: 'interfaceAttachment' is a required property")
    fixed = spec.get("fixed_ips") or []
    if not isinstance(fixed, list) or len(fixed) > 1:
        raise BadRequest("Invalid input for field/attribute fixed_ips.")
    if spec.get("port_id") and (spec.get("net_id") or fixed):
        raise BadRequest("Must not input both network_id and port_id")
    if not spec.get("port_id") and not spec.get("net_id"):
        raise BadRequest("Multiple possible networks found, use a Network ID to be more specific.")
    requested = NetworkRequest(
        network_id=spec.get("net_id"),
        port_id=spec.get("port_id"),
        fixed_ip=fixed[0].get("ip_address") if fixed and isinstance(fixed[0], dict) else None,
    )
    port = compute(request).interfaces.attach(ctx, server_id, requested)
    return JSONResponse({"interfaceAttachment": _view(port, version)})


@router.delete("/servers/{server_id}/os-interface/{port_id}")
def detach_interface(
    request: Request, server_id: str, port_id: str, ctx: RequestContext = Ctx
) -> Response:
    compute(request).interfaces.detach(ctx, server_id, port_id)
    return Response(status_code=202)
