"""Nova's proxy APIs (compute/proxies.py), served up to microversion 2.35 and a 404
from 2.36 on, as Nova does: ``/images`` (Glance), ``os-security-groups``,
``os-security-group-rules``, ``os-floating-ips``, ``os-floating-ip-pools``,
``os-networks`` and ``os-tenant-networks`` (Neutron)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, at_least, base, compute, next_links
from onestack.compute.api.views import iso, links
from onestack.compute.proxies import Gone
from onestack.image.interface import ImageRecord
from onestack.network.interface import (
    FloatingIPRecord,
    NetworkInfo,
    SecurityGroupRecord,
    SecurityGroupRuleRecord,
)

router = APIRouter(prefix="/v2.1")

#: Glance's status -> Nova's, and the progress Nova shows for it
IMAGE_STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "uploading": "SAVING",
    "importing": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
    "deactivated": "DEACTIVATED",
}
IMAGE_PROGRESS = {"queued": 25, "saving": 50, "active": 100}


def removed_in_2_36(version: APIVersion) -> None:
    """The proxy APIs were removed with microversion 2.36."""
    if at_least(version, "2.36"):
        raise NotFound("The resource could not be found.")


# -- views ------------------------------------------------------------------------


def image_view(base_url: str, image: ImageRecord, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "links": links(base_url, "images", image.id),
    }
    if not detail:
        return body
    body.update(
        {
            "minRam": image.min_ram,
            "minDisk": image.min_disk,
            "metadata": dict(image.properties),
            "created": iso(image.created_at),
            "updated": iso(image.updated_at),
            "status": IMAGE_STATUS.get(image.status, "UNKNOWN"),
            "progress": IMAGE_PROGRESS.get(image.status, 0),
            "OS-EXT-IMG-SIZE:size": image.size,
        }
    )
    server = image.properties.get("instance_uuid")
    if server:
        body["server"] = {"id": server, "links": links(base_url, "servers", server)}
    return body


def rule_view(
    rule: SecurityGroupRuleRecord, groups: dict[str, SecurityGroupRecord]
) -> dict[str, Any]:
    low, high = rule.port_range_min, rule.port_range_max
    if rule.protocol and low is None and high is None:
        low, high = (1, 65535) if rule.protocol in ("tcp", "udp") else (-1, -1)
    body: dict[str, Any] = {
        "id": rule.id,
        "parent_group_id": rule.security_group_id,
        "ip_protocol": rule.protocol,
        "from_port": low,
        "to_port": high,
        "group": {},
        "ip_range": {},
    }
    if rule.remote_group_id:
        source = groups.get(rule.remote_group_id)
        body["group"] = {
            "name": source.name if source else None,
            "tenant_id": source.project_id if source else None,
        }
    else:
        any_address = "::/0" if rule.ethertype == "IPv6" else "0.0.0.0/0"
        body["ip_range"] = {"cidr": rule.remote_ip_prefix or any_address}
    return body


def group_view(
    group: SecurityGroupRecord, groups: dict[str, SecurityGroupRecord]
) -> dict[str, Any]:
    """Nova shows a group's ingress rules only."""
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "tenant_id": group.project_id,
        "rules": [rule_view(r, groups) for r in group.rules if r.direction == "ingress"],
    }


def floating_ip_view(fip: FloatingIPRecord) -> dict[str, Any]:
    return {
        "id": fip.id,
        "ip": fip.floating_ip_address,
        "fixed_ip": fip.fixed_ip_address,
        "instance_id": fip.instance_id,
        "pool": fip.pool or fip.floating_network_id,
    }


#: the fields of nova-network's networks, shown as null now that Neutron has them
NETWORK_FIELDS = (
    "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6",
    "netmask_v6",
)  # fmt: skip
NETWORK_ADMIN_FIELDS = (
    "created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
    "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start",
    "project_id", "host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu",
    "dhcp_server", "enable_dhcp", "share_address",
)  # fmt: skip


def network_view(ctx: RequestContext, network: NetworkInfo) -> dict[str, Any]:
    body: dict[str, Any] = {"id": network.id, "label": network.name}
    fields = NETWORK_FIELDS + (NETWORK_ADMIN_FIELDS if ctx.is_admin else ())
    body.update(dict.fromkeys(fields))
    return body


def tenant_network_view(network: NetworkInfo) -> dict[str, Any]:
    return {"id": network.id, "label": network.name, "cidr": None}


# -- images -------------------------------------------------------------------------


def _images(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> Any:
    removed_in_2_36(version)
    params = list(request.query_params.multi_items())
    items = compute(request).image_proxy.list(ctx, params)
    body: dict[str, Any] = {"images": [image_view(base(request), i, detail) for i in items]}
    limit = dict(params).get("limit")
    found = next_links(request, "images", items, int(limit) if limit else None, lambda i: i.id)
    if found:
        body["images_links"] = found
    return JSONResponse(body)


@router.get("/images")
def list_images(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _images(request, ctx, version, False)


@router.get("/images/detail")
def list_images_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _images(request, ctx, version, True)


@router.get("/images/{image_id}")
def show_image(
    request: Request, image_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    image = compute(request).image_proxy.get(ctx, image_id)
    return JSONResponse({"image": image_view(base(request), image, True)})


@router.delete("/images/", include_in_schema=False)
def delete_image_without_id() -> Response:
    """An empty image id: Nova's 404 (not a redirect to the collection)."""
    raise NotFound("The resource could not be found.")


@router.delete("/images/{image_id}")
def delete_image(
    request: Request, image_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).image_proxy.delete(ctx, image_id)
    return Response(status_code=204)


def _metadata_body(body: Any, wrapper: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(wrapper), dict):
        raise BadRequest(f"Invalid input for field/attribute {wrapper}.")
    items = body[wrapper]
    for key, value in items.items():
        if not key or len(key) > 255 or not isinstance(value, str) or len(value) > 255:
            raise BadRequest(f"Invalid input for field/attribute {wrapper}.")
    return dict(items)


@router.get("/images/{image_id}/metadata")
def image_metadata(
    request: Request, image_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    return JSONResponse({"metadata": compute(request).image_proxy.metadata(ctx, image_id)})


@router.post("/images/{image_id}/metadata")
def update_image_metadata(
    request: Request,
    image_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    removed_in_2_36(version)
    items = _metadata_body(body, "metadata")
    merged = compute(request).image_proxy.set_metadata(ctx, image_id, items, replace=False)
    return JSONResponse({"metadata": merged})


@router.put("/images/{image_id}/metadata")
def replace_image_metadata(
    request: Request,
    image_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    removed_in_2_36(version)
    items = _metadata_body(body, "metadata")
    result = compute(request).image_proxy.set_metadata(ctx, image_id, items, replace=True)
    return JSONResponse({"metadata": result})


@router.get("/images/{image_id}/metadata/{key}")
def image_metadata_item(
    request: Request,
    image_id: str,
    key: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    removed_in_2_36(version)
    value = compute(request).image_proxy.metadata_item(ctx, image_id, key)
    return JSONResponse({"meta": {key: value}})


@router.put("/images/{image_id}/metadata/{key}")
def set_image_metadata_item(
    request: Request,
    image_id: str,
    key: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    removed_in_2_36(version)
    items = _metadata_body(body, "meta")
    if key not in items:
        raise BadRequest("Request body and URI mismatch")
    if len(items) > 1:
        raise BadRequest("Request body contains too many items")
    compute(request).image_proxy.set_metadata(ctx, image_id, items, replace=False)
    return JSONResponse({"meta": {key: items[key]}})


@router.delete("/images/{image_id}/metadata/{key}")
def delete_image_metadata_item(
    request: Request,
    image_id: str,
    key: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> Response:
    removed_in_2_36(version)
    compute(request).image_proxy.delete_metadata_item(ctx, image_id, key)
    return Response(status_code=204)


# -- security groups and rules ----------------------------------------------------


def _page(request: Request, items: list[Any]) -> list[Any]:
    """Nova's ``limit``/``offset`` on the proxies' lists."""
    params = request.query_params
    offset = _count(params.get("offset"), "offset") or 0
    limit = _count(params.get("limit"), "limit")
    items = items[offset:]
    return items if limit is None else items[:limit]


def _count(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if number < 0:
        raise BadRequest(f"{name} param must be positive")
    return number


@router.get("/os-security-groups")
def list_security_groups(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    proxy = compute(request).network_proxy
    all_projects = request.query_params.get("all_tenants", "0").lower() not in ("0", "false")
    groups = proxy.groups(ctx, all_projects)
    names = proxy.group_names(ctx)
    body = [group_view(g, names) for g in _page(request, groups)]
    return JSONResponse({"security_groups": body})


@router.post("/os-security-groups")
def create_security_group(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    proxy = compute(request).network_proxy
    group = proxy.create_group(ctx, body)
    return JSONResponse({"security_group": group_view(group, proxy.group_names(ctx))})


@router.get("/os-security-groups/{group_id}")
def show_security_group(
    request: Request, group_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    proxy = compute(request).network_proxy
    group = proxy.group(ctx, group_id)
    return JSONResponse({"security_group": group_view(group, proxy.group_names(ctx))})


@router.put("/os-security-groups/{group_id}")
def update_security_group(
    request: Request,
    group_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    removed_in_2_36(version)
    proxy = compute(request).network_proxy
    group = proxy.update_group(ctx, group_id, body)
    return JSONResponse({"security_group": group_view(group, proxy.group_names(ctx))})


@router.delete("/os-security-groups/", include_in_schema=False)
def delete_security_group_without_id() -> Response:
    """An empty group id: Nova's 404 (not a 405 from the collection)."""
    raise NotFound("The resource could not be found.")


@router.delete("/os-security-groups/{group_id}")
def delete_security_group(
    request: Request, group_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).network_proxy.delete_group(ctx, group_id)
    return Response(status_code=202)


@router.get("/servers/{server_id}/os-security-groups")
def list_server_security_groups(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    compute(request).servers.get(ctx, server_id)
    proxy = compute(request).network_proxy
    groups = proxy.server_groups(ctx, server_id)
    names = proxy.group_names(ctx)
    return JSONResponse({"security_groups": [group_view(g, names) for g in groups]})


@router.post("/os-security-group-rules")
def create_security_group_rule(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    proxy = compute(request).network_proxy
    rule = proxy.create_rule(ctx, body)
    return JSONResponse({"security_group_rule": rule_view(rule, proxy.group_names(ctx))})


@router.delete("/os-security-group-rules/{rule_id}")
def delete_security_group_rule(
    request: Request, rule_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).network_proxy.delete_rule(ctx, rule_id)
    return Response(status_code=202)


# -- floating IPs -------------------------------------------------------------------


@router.get("/os-floating-ips")
def list_floating_ips(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    items = compute(request).network_proxy.floating_ips(ctx)
    return JSONResponse({"floating_ips": [floating_ip_view(f) for f in items]})


@router.post("/os-floating-ips")
def create_floating_ip(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    pool = body.get("pool") if isinstance(body, dict) else None
    if pool is not None and not isinstance(pool, str):
        raise BadRequest("Invalid input for field/attribute pool.")
    fip = compute(request).network_proxy.allocate(ctx, pool)
    return JSONResponse({"floating_ip": floating_ip_view(fip)})


@router.get("/os-floating-ips/{fip_id}")
def show_floating_ip(
    request: Request, fip_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    fip = compute(request).network_proxy.floating_ip(ctx, fip_id)
    return JSONResponse({"floating_ip": floating_ip_view(fip)})


@router.delete("/os-floating-ips/{fip_id}")
def delete_floating_ip(
    request: Request, fip_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).network_proxy.release(ctx, fip_id)
    return Response(status_code=202)


@router.get("/os-floating-ip-pools")
def list_floating_ip_pools(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    pools = compute(request).network_proxy.pools(ctx)
    return JSONResponse({"floating_ip_pools": [{"name": p.name} for p in pools]})


# -- networks -------------------------------------------------------------------------


@router.get("/os-networks")
def list_networks(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    items = compute(request).network_proxy.networks(ctx, "os-networks:list")
    return JSONResponse({"networks": [network_view(ctx, n) for n in items]})


@router.get("/os-networks/{network_id}")
def show_network(
    request: Request, network_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    item = compute(request).network_proxy.network_info(ctx, "os-networks:view", network_id)
    return JSONResponse({"network": network_view(ctx, item)})


@router.get("/os-tenant-networks")
def list_tenant_networks(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    items = compute(request).network_proxy.networks(ctx, "os-tenant-networks:list")
    return JSONResponse({"networks": [tenant_network_view(n) for n in items]})


@router.get("/os-tenant-networks/{network_id}")
def show_tenant_network(
    request: Request, network_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    item = compute(request).network_proxy.network_info(ctx, "os-tenant-networks:show", network_id)
    return JSONResponse({"network": tenant_network_view(item)})


@router.post("/os-networks")
@router.post("/os-networks/add")
@router.post("/os-networks/{network_id}/action")
@router.delete("/os-networks/{network_id}")
@router.post("/os-tenant-networks")
@router.delete("/os-tenant-networks/{network_id}")
def nova_network_gone(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> None:
    """nova-network's writes: 410 Gone, as Nova answers since its removal."""
    removed_in_2_36(version)
    raise Gone()
