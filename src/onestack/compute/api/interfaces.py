"""Interfaces of a server (``os-interface``) and its security groups (actions).

Both go through the network service's public interface: attaching creates
or claims a port and plugs it into the running instance's namespace;
security groups are set on every port of the server.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, NotFound, NotSupported
from onestack.common.microversion import APIVersion
from onestack.compute import netinfo
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute

router = APIRouter(prefix="/v2.1")


def _network(request: Request) -> Any:
    network = compute(request).cloud.neighbours.network
    if network is None:
        raise NotSupported(operation="Interfaces without the network service")
    return network


def _view(port: Any, version: APIVersion) -> dict[str, Any]:
    body = netinfo.port_view(port)
    if at_least(version, "2.70"):
        body["tag"] = None
    return body


@router.get("/servers/{server_id}/os-interface")
def list_interfaces(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    instance = compute(request).servers.get(ctx, server_id)
    ports = _network(request).get_instance_nw_info(ctx, instance.id)
    return JSONResponse({"interfaceAttachments": [_view(p, version) for p in ports]})


@router.get("/servers/{server_id}/os-interface/{port_id}")
def show_interface(
    request: Request,
    server_id: str,
    port_id: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    instance = compute(request).servers.get(ctx, server_id)
    for port in _network(request).get_instance_nw_info(ctx, instance.id):
        if port.id == port_id:
            return JSONResponse({"interfaceAttachment": _view(port, version)})
    raise NotFound(f"Instance {server_id} is not attached to port {port_id}.")


@router.post("/servers/{server_id}/os-interface")
def attach_interface(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    from onestack.network.interface import NetworkRequest

    instance = compute(request).servers.get(ctx, server_id)
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
    if instance.vm_state not in ("active", "stopped", "paused"):
        raise Conflict(
            f"Cannot 'attach_interface' instance {server_id} while it is in vm_state "
            f"{instance.vm_state}"
        )
    requested = NetworkRequest(
        network_id=spec.get("net_id"),
        port_id=spec.get("port_id"),
        fixed_ip=fixed[0].get("ip_address") if fixed and isinstance(fixed[0], dict) else None,
    )
    port = _network(request).attach_interface(ctx, instance.id, instance.host or "", requested)
    return JSONResponse({"interfaceAttachment": _view(port, version)})


@router.delete("/servers/{server_id}/os-interface/{port_id}")
def detach_interface(
    request: Request, server_id: str, port_id: str, ctx: RequestContext = Ctx
) -> Response:
    instance = compute(request).servers.get(ctx, server_id)
    network = _network(request)
    if port_id not in {p.id for p in network.get_instance_nw_info(ctx, instance.id)}:
        raise NotFound(f"Port {port_id} is not attached")
    network.detach_interface(ctx, instance.id, port_id)
    return Response(status_code=202)


def security_group_action(
    request: Request, server_id: str, ctx: RequestContext, action: str, params: Any
) -> Response:
    instance = compute(request).servers.get(ctx, server_id)
    name = params.get("name") if isinstance(params, dict) else None
    if not isinstance(name, str) or not name:
        raise BadRequest("Invalid input for field/attribute name.")
    netinfo.change_security_group(
        compute(request).cloud.db, _network(request), ctx, instance, name,
        add=action == "addSecurityGroup",
    )  # fmt: skip
    return Response(status_code=202)
