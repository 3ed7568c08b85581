"""``/v2.1/servers``: create, list, show, update, delete, metadata, tags,
addresses and instance actions."""

from __future__ import annotations

import base64
import binascii
import uuid as uuid_lib
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.common.openapi import request_body
from onestack.compute.api import schemas, views
from onestack.compute.api.deps import (
    Body,
    Ctx,
    Version,
    at_least,
    base,
    compute,
    data,
    int_param,
    next_links,
    query,
)
from onestack.compute.exceptions import TagNotFound
from onestack.compute.listing import parse_time
from onestack.compute.servers import ServerDetails, ServerRequest

if TYPE_CHECKING:
    from onestack.compute.models import Instance

router = APIRouter(prefix="/v2.1")


def _wants(ctx: RequestContext, version: APIVersion) -> dict[str, bool]:
    """What a server's view needs beside the server at this microversion."""
    return {
        "host_status": ctx.is_admin and at_least(version, "2.16"),
        "image_properties": at_least(version, "2.98"),
    }


def render(
    request: Request, details: ServerDetails, version: APIVersion, ctx: RequestContext
) -> dict[str, Any]:
    inst = details.instance
    body = views.server(
        base(request), inst, version, ctx, details.fault, details.host_up, details.image_properties
    )
    body["addresses"] = details.addresses
    if at_least(version, "2.3"):
        volumes = [{"id": v, "delete_on_termination": d} for v, d in details.volumes]
    else:
        volumes = [{"id": v} for v, _ in details.volumes]
    body["os-extended-volumes:volumes_attached"] = volumes
    return body


def _details(
    request: Request, ctx: RequestContext, version: APIVersion, inst: Instance
) -> ServerDetails:
    return compute(request).servers.details(ctx, [inst], **_wants(ctx, version))[0]


#: what a server update or rebuild answer leaves out before microversion 2.75
#: (Nova shows only the basic attributes there; from 2.75 the answer equals GET)
_NOT_IN_UPDATE_BEFORE_2_75 = (
    "OS-EXT-AZ:availability_zone",
    "config_drive",
    "key_name",
    "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state",
    "os-extended-volumes:volumes_attached",
    "security_groups",
    "host_status",
)


def render_changed(
    request: Request,
    inst: Instance,
    version: APIVersion,
    ctx: RequestContext,
    *,
    rebuild: bool = False,
) -> dict[str, Any]:
    """The server in an update or rebuild answer."""
    body = render(request, _details(request, ctx, version, inst), version, ctx)
    if rebuild and at_least(version, "2.57"):
        body["user_data"] = inst.user_data
    if at_least(version, "2.75"):
        return body
    for key in _NOT_IN_UPDATE_BEFORE_2_75:
        if not (rebuild and key == "key_name" and at_least(version, "2.54")):
            body.pop(key, None)
    for key in [k for k in body if k.startswith("OS-EXT-SRV-ATTR:")]:
        del body[key]
    for entries in body.get("addresses", {}).values():
        for entry in entries:
            entry.pop("OS-EXT-IPS:type", None)
            entry.pop("OS-EXT-IPS-MAC:mac_addr", None)
    return body


def _networks(value: Any, version: APIVersion) -> Any:
    """``networks`` as the request gives it: its shape only (which networks and ports
    exist is the manager's question)."""
    if value is None:
        if at_least(version, "2.37"):
            raise BadRequest(
                "Invalid input for field/attribute networks. Value: None. "
                "'networks' is a required property"
            )
        return "none"
    if isinstance(value, str):
        if not at_least(version, "2.37") or value not in ("auto", "none"):
            raise BadRequest(f"Invalid input for field/attribute networks. Value: {value}.")
        return value
    if not value:
        return "none"
    if not isinstance(value, list):
        raise BadRequest(f"Invalid input for field/attribute networks. Value: {value}.")
    result = []
    for item in value:
        if not isinstance(item, dict) or not set(item) <= {"uuid", "port", "fixed_ip", "tag"}:
            raise BadRequest(f"Invalid input for field/attribute networks. Value: {value}.")
        entry: dict[str, Any] = {}
        for key in ("uuid", "port"):
            if item.get(key) is None:
                continue
            try:
                entry[key] = str(uuid_lib.UUID(str(item[key])))
            except ValueError:
                raise BadRequest(f"Bad networks format: {key} {item[key]} is not a UUID") from None
        if item.get("fixed_ip"):
            entry["fixed_ip"] = str(item["fixed_ip"])
        result.append(entry)
    return result


@router.post("/servers", openapi_extra=request_body(schemas.ServerCreate, "server"))
def create_server(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    req = data(schemas.ServerCreate, body, "server")
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise BadRequest("os:scheduler_hints must be an object")
    if req.personality is not None and at_least(version, "2.57"):
        raise BadRequest("Additional properties are not allowed ('personality' was unexpected)")
    if req.tags is not None and not at_least(version, "2.52"):
        raise BadRequest("Additional properties are not allowed ('tags' was unexpected)")
    if req.description is not None and not at_least(version, "2.19"):
        raise BadRequest("Additional properties are not allowed ('description' was unexpected)")
    if req.hostname is not None and not at_least(version, "2.90"):
        raise BadRequest("Additional properties are not allowed ('hostname' was unexpected)")
    if req.user_data is not None:
        try:
            base64.b64decode(req.user_data, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("User data needs to be valid base 64.") from None
    zone = req.availability_zone
    if req.host or req.hypervisor_hostname:
        zone = f"{zone or ''}:{req.host or req.hypervisor_hostname}"
    groups = tuple(g.get("name", "default") for g in req.security_groups or []) or ("default",)
    group = hints.get("group")
    server_req = ServerRequest(
        name=req.name,
        image_ref=req.imageRef,
        flavor_ref=str(req.flavorRef),
        key_name=req.key_name,
        user_data=req.user_data,
        metadata=req.metadata,
        min_count=req.min_count,
        max_count=req.max_count or req.min_count,
        availability_zone=zone,
        security_groups=groups,
        networks=_networks(req.networks, version),
        group=str(group) if group else None,
        hints={k: v for k, v in hints.items() if isinstance(k, str)},
        tags=tuple(req.tags or ()),
        description=req.description,
        hostname=req.hostname,
        admin_pass=req.adminPass,
        access_ipv4=req.accessIPv4 or "",
        access_ipv6=req.accessIPv6 or "",
        config_drive=bool(req.config_drive) and req.config_drive not in ("", "false", "False"),
        auto_disk_config=req.OS_DCF_diskConfig == "AUTO",
        block_devices=tuple(req.block_device_mapping_v2 or ()),
    )
    created, admin_pass = compute(request).servers.create(ctx, server_req)
    first = created[0]
    if req.return_reservation_id:
        return JSONResponse({"reservation_id": first.reservation_id}, status_code=202)
    server = {
        "id": first.id,
        "links": views.links(base(request), "servers", first.id),
        "OS-DCF:diskConfig": req.OS_DCF_diskConfig or "MANUAL",
        "security_groups": [{"name": n} for n in groups],
        "adminPass": admin_pass,
    }
    location = f"{base(request)}/v2.1/servers/{first.id}"
    return JSONResponse({"server": server}, status_code=202, headers={"Location": location})


def _list(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> Any:
    svc = compute(request)
    params = query(request)
    items = svc.lister.list(ctx, params, detail, strict_status=at_least(version, "2.38"))
    limit = int_param(dict(params).get("limit"), "limit")
    if detail:
        found = svc.servers.details(ctx, items, **_wants(ctx, version))
        rendered = [render(request, d, version, ctx) for d in found]
        for item in rendered:
            item.pop("server_groups", None)  # 2.71 shows them in GET one server only
    else:
        rendered = [views.server_brief(base(request), i) for i in items]
    body: dict[str, Any] = {"servers": rendered}
    links = next_links(request, "servers", items, limit, lambda i: i.id)
    if links:
        body["servers_links"] = links
    return JSONResponse(body)


@router.get("/servers")
def list_servers(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _list(request, ctx, version, False)


@router.get("/servers/detail")
def list_servers_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _list(request, ctx, version, True)


@router.get("/servers/{server_id}")
def show_server(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    found = compute(request).servers.show(ctx, server_id, **_wants(ctx, version))
    return JSONResponse({"server": render(request, found, version, ctx)})


@router.put("/servers/{server_id}", openapi_extra=request_body(schemas.ServerUpdate, "server"))
def update_server(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    req = data(schemas.ServerUpdate, body, "server")
    fields = req.model_dump(exclude_unset=True, by_alias=False)
    if "description" in fields and not at_least(version, "2.19"):
        raise BadRequest("Additional properties are not allowed ('description' was unexpected)")
    if "hostname" in fields and not at_least(version, "2.90"):
        raise BadRequest("Additional properties are not allowed ('hostname' was unexpected)")
    mapping = {"accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6"}
    changes = {mapping.get(k, k): v for k, v in fields.items() if k != "OS_DCF_diskConfig"}
    if req.OS_DCF_diskConfig is not None:
        changes["auto_disk_config"] = req.OS_DCF_diskConfig == "AUTO"
    inst = compute(request).servers.update(ctx, server_id, changes)
    return JSONResponse({"server": render_changed(request, inst, version, ctx)})


@router.delete("/servers/{server_id}")
def delete_server(request: Request, server_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).servers.delete(ctx, server_id)
    return Response(status_code=204)


@router.get("/servers/{server_id}/ips")
def server_ips(request: Request, server_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"addresses": compute(request).servers.addresses(ctx, server_id)})


@router.get("/servers/{server_id}/ips/{network}")
def server_ips_network(
    request: Request, server_id: str, network: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    addresses = compute(request).servers.addresses(ctx, server_id)
    if network in addresses:
        return JSONResponse({network: addresses[network]})
    raise NotFound("Instance is not a member of specified network")


@router.get("/servers/{server_id}/os-server-password")
def show_server_password(
    request: Request, server_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    # Guests post an encrypted password to the metadata service, which onestack
    # does not take; Nova answers an empty string when none was posted.
    compute(request).servers.get(ctx, server_id)
    return JSONResponse({"password": ""})


@router.delete("/servers/{server_id}/os-server-password")
def clear_server_password(request: Request, server_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).servers.get(ctx, server_id)
    return Response(status_code=204)


# -- metadata -------------------------------------------------------------------


def _meta_body(body: Any, key: str) -> dict[str, str]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f"Invalid input: '{key}' is a required property")
    items = body[key]
    for k, value in items.items():
        if not isinstance(value, str) or not 1 <= len(k) <= 255 or len(value) > 255:
            raise BadRequest("Invalid input for field/attribute metadata.")
    return dict(items)


@router.get("/servers/{server_id}/metadata")
def list_metadata(request: Request, server_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    inst = compute(request).servers.get(ctx, server_id)
    return JSONResponse({"metadata": dict(inst.meta or {})})


@router.post("/servers/{server_id}/metadata")
def add_metadata(
    request: Request, server_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    items = _meta_body(body, "metadata")
    merged = compute(request).servers.set_metadata(ctx, server_id, items, replace=False)
    return JSONResponse({"metadata": merged})


@router.put("/servers/{server_id}/metadata")
def replace_metadata(
    request: Request, server_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    items = _meta_body(body, "metadata")
    merged = compute(request).servers.set_metadata(ctx, server_id, items, replace=True)
    return JSONResponse({"metadata": merged})


@router.get("/servers/{server_id}/metadata/{key}")
def show_metadata(
    request: Request, server_id: str, key: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    value = compute(request).servers.metadata_item(ctx, server_id, key)
    return JSONResponse({"meta": {key: value}})


@router.put("/servers/{server_id}/metadata/{key}")
def set_metadata_item(
    request: Request, server_id: str, key: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    item = _meta_body(body, "meta")
    if len(item) != 1:
        raise BadRequest("Request body contains too many items")
    if key not in item:
        raise BadRequest("Request body and URI mismatch")
    compute(request).servers.set_metadata(ctx, server_id, item, replace=False)
    return JSONResponse({"meta": item})


@router.delete("/servers/{server_id}/metadata/{key}")
def delete_metadata_item(
    request: Request, server_id: str, key: str, ctx: RequestContext = Ctx
) -> Response:
    compute(request).servers.delete_metadata(ctx, server_id, key)
    return Response(status_code=204)


# -- tags (2.26) ----------------------------------------------------------------


def _tags_version(version: APIVersion) -> None:
    if not at_least(version, "2.26"):
        raise NotFound("The resource could not be found.")


@router.get("/servers/{server_id}/tags")
def list_tags(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _tags_version(version)
    inst = compute(request).servers.get(ctx, server_id)
    return JSONResponse({"tags": list(inst.tags or [])})


@router.put("/servers/{server_id}/tags")
def replace_tags(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    _tags_version(version)
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
        raise BadRequest("Invalid input: 'tags' is a required property")
    tags = body["tags"]
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "/" in tag or "," in tag:
            raise BadRequest(f"Invalid input for field/attribute tags. Value: {tag}.")
    result = compute(request).servers.set_tags(ctx, server_id, tags)
    return JSONResponse({"tags": result})


@router.delete("/servers/{server_id}/tags")
def delete_tags(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    _tags_version(version)
    compute(request).servers.set_tags(ctx, server_id, [])
    return Response(status_code=204)


@router.get("/servers/{server_id}/tags/{tag}")
def check_tag(
    request: Request,
    server_id: str,
    tag: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> Response:
    _tags_version(version)
    if not compute(request).servers.has_tag(ctx, server_id, tag):
        raise TagNotFound(tag=tag)
    return Response(status_code=204)


@router.put("/servers/{server_id}/tags/{tag}")
def add_tag(
    request: Request,
    server_id: str,
    tag: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> Response:
    _tags_version(version)
    if not 1 <= len(tag) <= 60 or "," in tag:
        raise BadRequest(f"Invalid input for field/attribute tag. Value: {tag}.")
    existed = compute(request).servers.has_tag(ctx, server_id, tag)
    compute(request).servers.set_tags(ctx, server_id, None, add=tag)
    location = f"{base(request)}/v2.1/servers/{server_id}/tags/{tag}"
    return Response(status_code=204 if existed else 201, headers={"Location": location})


@router.delete("/servers/{server_id}/tags/{tag}")
def delete_tag(
    request: Request,
    server_id: str,
    tag: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> Response:
    _tags_version(version)
    compute(request).servers.set_tags(ctx, server_id, None, remove=tag)
    return Response(status_code=204)


# -- instance actions -----------------------------------------------------------


@router.get("/servers/{server_id}/os-instance-actions")
def list_actions(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    params = dict(query(request))
    limit = int_param(params.get("limit"), "limit")
    rows = compute(request).servers.actions(ctx, server_id)
    if "changes-since" in params and at_least(version, "2.58"):
        since = parse_time(params["changes-since"], "changes-since")
        rows = [r for r in rows if r.updated_at >= since]
    if "marker" in params:
        ids = [r.request_id for r in rows]
        if params["marker"] not in ids:
            raise BadRequest(f"Marker {params['marker']} could not be found.")
        rows = rows[ids.index(params["marker"]) + 1 :]
    if limit is not None:
        rows = rows[:limit]
    body: dict[str, Any] = {"instanceActions": [views.action(r, version) for r in rows]}
    links = next_links(request, "instanceActions", rows, limit, lambda r: r.request_id)
    if links and at_least(version, "2.58"):
        body["links"] = links
    return JSONResponse(body)


@router.get("/servers/{server_id}/os-instance-actions/{request_id}")
def show_action(
    request: Request,
    server_id: str,
    request_id: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    record, events = compute(request).servers.action(ctx, server_id, request_id)
    body = views.action(record, version)
    if ctx.is_admin or at_least(version, "2.51"):
        body["events"] = [views.event(e, version, ctx) for e in events]
    return JSONResponse({"instanceAction": body})
