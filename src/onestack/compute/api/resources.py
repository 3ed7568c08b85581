"""Flavors, key pairs, server groups, quotas, limits, availability zones,
services, hypervisors and simple tenant usage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
from onestack.compute.hosts import HostManager
from onestack.compute.listing import parse_time
from onestack.compute.quotas import LEGACY, REMOVED_IN_2_57

router = APIRouter(prefix="/v2.1")


# -- flavors --------------------------------------------------------------------


def _flavors(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> Any:
    params = query(request)
    items = compute(request).flavors.list(ctx, params)
    limit = int_param(dict(params).get("limit"), "limit")
    body: dict[str, Any] = {
        "flavors": [views.flavor(base(request), f, version, detail) for f in items]
    }
    links = next_links(request, "flavors", items, limit, lambda f: f.id)
    if links:
        body["flavors_links"] = links
    return JSONResponse(body)


@router.get("/flavors")
def list_flavors(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _flavors(request, ctx, version, False)


@router.get("/flavors/detail")
def list_flavors_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _flavors(request, ctx, version, True)


@router.get("/flavors/{flavor_id}")
def show_flavor(
    request: Request, flavor_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    item = compute(request).flavors.get(ctx, flavor_id)
    return JSONResponse({"flavor": views.flavor(base(request), item, version)})


@router.post("/flavors", openapi_extra=request_body(schemas.FlavorCreate, "flavor"))
def create_flavor(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    req = data(schemas.FlavorCreate, body, "flavor")
    if req.description is not None and not at_least(version, "2.55"):
        raise BadRequest("Additional properties are not allowed ('description' was unexpected)")
    swap = req.swap
    if swap == "":
        swap = 0
    try:
        swap = int(swap)
    except ValueError:
        raise BadRequest("Invalid input for field/attribute swap.") from None
    if swap < 0:
        raise BadRequest("Invalid input for field/attribute swap.")
    values = {
        "name": req.name.strip(),
        "id": str(req.id) if req.id is not None else None,
        "ram": req.ram,
        "vcpus": req.vcpus,
        "disk": req.disk,
        "ephemeral": req.OS_FLV_EXT_DATA_ephemeral,
        "swap": swap,
        "rxtx_factor": req.rxtx_factor,
        "is_public": req.os_flavor_access_is_public,
        "description": req.description,
    }
    item = compute(request).flavors.create(ctx, values)
    return JSONResponse({"flavor": views.flavor(base(request), item, version)})


@router.put("/flavors/{flavor_id}", openapi_extra=request_body(schemas.FlavorUpdate, "flavor"))
def update_flavor(
    request: Request,
    flavor_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not at_least(version, "2.55"):
        raise NotFound("The resource could not be found.")
    req = data(schemas.FlavorUpdate, body, "flavor")
    item = compute(request).flavors.update(ctx, flavor_id, req.description)
    return JSONResponse({"flavor": views.flavor(base(request), item, version)})


@router.delete("/flavors/{flavor_id}")
def delete_flavor(request: Request, flavor_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).flavors.delete(ctx, flavor_id)
    return Response(status_code=202)


def _specs(body: Any) -> dict[str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("extra_specs"), dict):
        raise BadRequest("Invalid input: 'extra_specs' is a required property")
    specs = {}
    for key, value in body["extra_specs"].items():
        if not 1 <= len(key) <= 255 or isinstance(value, dict | list) or value is None:
            raise BadRequest(f"Invalid input for field/attribute extra_specs. Value: {key}.")
        specs[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return specs


@router.get("/flavors/{flavor_id}/os-extra_specs")
def list_extra_specs(request: Request, flavor_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"extra_specs": compute(request).flavors.extra_specs(ctx, flavor_id)})


@router.post("/flavors/{flavor_id}/os-extra_specs")
def create_extra_specs(
    request: Request, flavor_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    specs = compute(request).flavors.set_extra_specs(ctx, flavor_id, _specs(body))
    return JSONResponse({"extra_specs": specs})


@router.get("/flavors/{flavor_id}/os-extra_specs/{key}")
def show_extra_spec(
    request: Request, flavor_id: str, key: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({key: compute(request).flavors.extra_spec(ctx, flavor_id, key)})


@router.put("/flavors/{flavor_id}/os-extra_specs/{key}")
def update_extra_spec(
    request: Request, flavor_id: str, key: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Request body contains too many items")
    if key not in body:
        raise BadRequest("Request body and URI mismatch")
    value = body[key]
    if isinstance(value, dict | list) or value is None:
        raise BadRequest(f"Invalid input for field/attribute {key}.")
    compute(request).flavors.set_extra_specs(ctx, flavor_id, {key: str(value)}, "update")
    return JSONResponse({key: str(value)})


@router.delete("/flavors/{flavor_id}/os-extra_specs/{key}")
def delete_extra_spec(
    request: Request, flavor_id: str, key: str, ctx: RequestContext = Ctx
) -> Response:
    compute(request).flavors.delete_extra_spec(ctx, flavor_id, key)
    return Response(status_code=200)


def _access(flavor_id: str, projects: list[str]) -> JSONResponse:
    return JSONResponse(
        {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}
    )


@router.get("/flavors/{flavor_id}/os-flavor-access")
def list_access(request: Request, flavor_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return _access(flavor_id, compute(request).flavors.access(ctx, flavor_id))


@router.post("/flavors/{flavor_id}/action")
def flavor_action(
    request: Request, flavor_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    flavors = compute(request).flavors
    for name, method in (
        ("addTenantAccess", flavors.add_access),
        ("removeTenantAccess", flavors.remove_access),
    ):
        if isinstance(body, dict) and name in body:
            tenant = body[name].get("tenant") if isinstance(body[name], dict) else None
            if not isinstance(tenant, str) or not tenant:
                raise BadRequest("Invalid input: 'tenant' is a required property")
            return _access(flavor_id, method(ctx, flavor_id, tenant))
    raise BadRequest("Invalid flavor action.")


# -- key pairs ------------------------------------------------------------------


@router.get("/os-keypairs")
def list_keypairs(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    params = dict(query(request))
    user_id = params.get("user_id") if at_least(version, "2.10") else None
    limit = int_param(params.get("limit"), "limit") if at_least(version, "2.35") else None
    marker = params.get("marker") if at_least(version, "2.35") else None
    items = compute(request).keypairs.list(ctx, user_id, limit, marker)
    body: dict[str, Any] = {
        "keypairs": [{"keypair": views.keypair(k, version, full=False)} for k in items]
    }
    links = next_links(request, "keypairs", items, limit, lambda k: k.name)
    if links:
        body["keypairs_links"] = links
    return JSONResponse(body)


@router.post("/os-keypairs", openapi_extra=request_body(schemas.KeypairCreate, "keypair"))
def create_keypair(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    req = data(schemas.KeypairCreate, body, "keypair")
    values = req.model_dump(exclude_unset=True)
    if "type" in values and not at_least(version, "2.2"):
        raise BadRequest("Additional properties are not allowed ('type' was unexpected)")
    if "user_id" in values and not at_least(version, "2.10"):
        raise BadRequest("Additional properties are not allowed ('user_id' was unexpected)")
    if req.public_key is None and at_least(version, "2.92"):
        raise BadRequest("Invalid input: 'public_key' is a required property")
    item, private = compute(request).keypairs.create(ctx, values)
    result = views.keypair(item, version, full=False)
    result["user_id"] = item.user_id
    if private is not None:
        result["private_key"] = private
    return JSONResponse({"keypair": result}, status_code=201 if at_least(version, "2.2") else 200)


@router.get("/os-keypairs/{name}")
def show_keypair(
    request: Request, name: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    user_id = request.query_params.get("user_id") if at_least(version, "2.10") else None
    item = compute(request).keypairs.get(ctx, name, user_id)
    return JSONResponse({"keypair": views.keypair(item, version, full=True)})


@router.delete("/os-keypairs/{name}")
def delete_keypair(
    request: Request, name: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    user_id = request.query_params.get("user_id") if at_least(version, "2.10") else None
    compute(request).keypairs.delete(ctx, name, user_id)
    return Response(status_code=204 if at_least(version, "2.2") else 202)


# -- server groups --------------------------------------------------------------


@router.get("/os-server-groups")
def list_groups(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    params = dict(query(request))
    all_projects = params.get("all_projects", "").lower() in ("1", "true", "yes", "on", "t", "")
    all_projects = "all_projects" in params and all_projects
    limit = int_param(params.get("limit"), "limit")
    offset = int_param(params.get("offset"), "offset") or 0
    items = compute(request).groups.list(ctx, all_projects, limit, offset)
    return JSONResponse({"server_groups": [views.server_group(g, version) for g in items]})


@router.post(
    "/os-server-groups", openapi_extra=request_body(schemas.ServerGroupCreate, "server_group")
)
def create_group(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    req = data(schemas.ServerGroupCreate, body, "server_group")
    if at_least(version, "2.64"):
        if req.policies is not None or req.policy is None:
            raise BadRequest("Invalid input: 'policy' is a required property")
        policy, rules = req.policy, req.rules or {}
    else:
        if req.policies is None or req.policy is not None or req.rules is not None:
            raise BadRequest("Invalid input: 'policies' is a required property")
        policy, rules = req.policies[0], {}
    item = compute(request).groups.create(ctx, req.name, policy, rules)
    return JSONResponse({"server_group": views.server_group(item, version)})


@router.get("/os-server-groups/{group_id}")
def show_group(
    request: Request, group_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    item = compute(request).groups.get(ctx, group_id)
    return JSONResponse({"server_group": views.server_group(item, version)})


@router.delete("/os-server-groups/{group_id}")
def delete_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).groups.delete(ctx, group_id)
    return Response(status_code=204)


# -- quotas and limits ----------------------------------------------------------


def _quota_view(values: dict[str, Any], version: APIVersion) -> dict[str, Any]:
    body = dict(values)
    if at_least(version, "2.57"):
        for key in REMOVED_IN_2_57:
            body.pop(key, None)
    if not at_least(version, "2.36"):
        for key, value in LEGACY.items():
            body.setdefault(
                key,
                value
                if not isinstance(values.get("instances"), dict)
                else {"limit": value, "in_use": 0, "reserved": 0},
            )
    return body


@router.get("/os-quota-sets/{project_id}")
def show_quota(
    request: Request, project_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    values = compute(request).quotas.show(ctx, project_id)
    return JSONResponse({"quota_set": {"id": project_id, **_quota_view(values, version)}})


@router.get("/os-quota-sets/{project_id}/detail")
def show_quota_detail(
    request: Request, project_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    values = compute(request).quotas.detail(ctx, project_id)
    return JSONResponse({"quota_set": {"id": project_id, **_quota_view(values, version)}})


@router.get("/os-quota-sets/{project_id}/defaults")
def show_quota_defaults(
    request: Request, project_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    values = compute(request).quotas.defaults(ctx)
    return JSONResponse({"quota_set": {"id": project_id, **_quota_view(values, version)}})


@router.put("/os-quota-sets/{project_id}")
def update_quota(
    request: Request,
    project_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not isinstance(body, dict) or not isinstance(body.get("quota_set"), dict):
        raise BadRequest("Invalid input: 'quota_set' is a required property")
    limits: dict[str, int] = {}
    for key, value in body["quota_set"].items():
        if key == "force":
            continue
        if key in LEGACY and not at_least(version, "2.36"):
            continue
        if key in REMOVED_IN_2_57 and at_least(version, "2.57"):
            raise BadRequest(f"Additional properties are not allowed ('{key}' was unexpected)")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.") from None
        limits[key] = number
    values = compute(request).quotas.update(ctx, project_id, limits)
    return JSONResponse({"quota_set": _quota_view(values, version)})


@router.delete("/os-quota-sets/{project_id}")
def delete_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).quotas.reset(ctx, project_id)
    return Response(status_code=202)


@router.get("/limits")
def limits(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    project = request.query_params.get("tenant_id")
    usage = compute(request).quotas.absolute_limits(ctx, project)
    absolute: dict[str, Any] = {
        "maxTotalInstances": usage["instances"][0],
        "maxTotalCores": usage["cores"][0],
        "maxTotalRAMSize": usage["ram"][0],
        "maxServerMeta": usage["metadata_items"][0],
        "maxTotalKeypairs": usage["key_pairs"][0],
        "maxServerGroups": usage["server_groups"][0],
        "maxServerGroupMembers": usage["server_group_members"][0],
        "totalInstancesUsed": usage["instances"][1],
        "totalCoresUsed": usage["cores"][1],
        "totalRAMUsed": usage["ram"][1],
        "totalServerGroupsUsed": usage["server_groups"][1],
    }
    if not at_least(version, "2.39"):
        absolute["maxImageMeta"] = 128
    if not at_least(version, "2.57"):
        absolute["maxPersonality"] = usage["injected_files"][0]
        absolute["maxPersonalitySize"] = usage["injected_file_content_bytes"][0]
    if not at_least(version, "2.36"):
        absolute.update(
            {
                "maxSecurityGroups": 10,
                "maxSecurityGroupRules": 20,
                "maxTotalFloatingIps": 10,
                "totalSecurityGroupsUsed": 0,
                "totalFloatingIpsUsed": 0,
            }
        )
    return JSONResponse({"limits": {"rate": [], "absolute": absolute}})


# -- availability zones, services, hypervisors ----------------------------------


@router.get("/os-availability-zone")
def zones(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = compute(request).hosts.zones(ctx, False)
    body = [
        {"zoneName": z["zoneName"], "zoneState": {"available": z["available"]}, "hosts": None}
        for z in items
    ]
    return JSONResponse({"availabilityZoneInfo": body})


@router.get("/os-availability-zone/detail")
def zones_detail(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = compute(request).hosts.zones(ctx, True)
    body = []
    for zone in items:
        hosts = {
            host: {
                binary: {**state, "updated_at": views.iso_us(state["updated_at"])}
                for binary, state in binaries.items()
            }
            for host, binaries in zone["hosts"].items()
        }
        body.append(
            {
                "zoneName": zone["zoneName"],
                "zoneState": {"available": zone["available"]},
                "hosts": hosts,
            }
        )
    return JSONResponse({"availabilityZoneInfo": body})


@router.get("/os-services")
def list_services(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    hosts = compute(request).hosts
    params = request.query_params
    items = hosts.services(ctx, params.get("host"), params.get("binary"))
    zones = hosts.zones_of(items)
    return JSONResponse(
        {"services": [views.service(s, version, hosts.is_up(s), zones[s.id]) for s in items]}
    )


@router.put("/os-services/{service_id}", openapi_extra=request_body(schemas.ServiceUpdate))
def update_service(
    request: Request,
    service_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    hosts = compute(request).hosts
    if not at_least(version, "2.53"):
        return _legacy_service_update(hosts, ctx, service_id, body, version)
    req = data(schemas.ServiceUpdate, body, None)
    changes: dict[str, Any] = {}
    if req.status is not None:
        changes["disabled"] = req.status == "disabled"
    if req.disabled_reason is not None:
        if req.status != "disabled":
            raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
        changes["disabled_reason"] = req.disabled_reason
    if req.forced_down is not None:
        changes["forced_down"] = req.forced_down
    if not changes:
        raise BadRequest(
            "No updates were requested. Fields 'status' or 'forced_down' should be specified."
        )
    item = hosts.update_service(ctx, service_id, changes)
    zone = hosts.zones_of([item])[item.id]
    return JSONResponse({"service": views.service(item, version, hosts.is_up(item), zone)})


def _legacy_service_update(
    hosts: HostManager, ctx: RequestContext, action: str, body: Any, version: APIVersion
) -> JSONResponse:
    if not isinstance(body, dict) or "host" not in body or "binary" not in body:
        raise BadRequest("Invalid input: 'host' and 'binary' are required properties")
    changes: dict[str, Any] = {}
    if action == "enable":
        changes = {"disabled": False}
    elif action in ("disable", "disable-log-reason"):
        changes = {"disabled": True, "disabled_reason": body.get("disabled_reason")}
    elif action == "force-down" and at_least(version, "2.11"):
        changes = {"forced_down": bool(body.get("forced_down"))}
    else:
        raise NotFound(f"Unknown action {action}")
    hosts.update_service_of(ctx, str(body["host"]), str(body["binary"]), changes)
    result = {"host": body["host"], "binary": body["binary"]}
    if "disabled" in changes:
        result["status"] = "disabled" if changes["disabled"] else "enabled"
    if changes.get("disabled_reason"):
        result["disabled_reason"] = changes["disabled_reason"]
    if "forced_down" in changes:
        result["forced_down"] = changes["forced_down"]
    return JSONResponse({"service": result})


@router.delete("/os-services/{service_id}")
def delete_service(request: Request, service_id: str, ctx: RequestContext = Ctx) -> Response:
    compute(request).hosts.delete_service(ctx, service_id)
    return Response(status_code=204)


@router.get("/os-hypervisors")
def list_hypervisors(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    pattern = request.query_params.get("hypervisor_hostname_pattern")
    with_servers = request.query_params.get("with_servers", "").lower() in ("1", "true", "yes")
    items = compute(request).hosts.hypervisors(ctx, "list", pattern, with_servers)
    return JSONResponse(
        {"hypervisors": [views.hypervisor(h, version, False, with_servers) for h in items]}
    )


@router.get("/os-hypervisors/detail")
def list_hypervisors_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    pattern = request.query_params.get("hypervisor_hostname_pattern")
    with_servers = request.query_params.get("with_servers", "").lower() in ("1", "true", "yes")
    items = compute(request).hosts.hypervisors(ctx, "list-detail", pattern, with_servers)
    return JSONResponse(
        {"hypervisors": [views.hypervisor(h, version, True, with_servers) for h in items]}
    )


@router.get("/os-hypervisors/statistics")
def hypervisor_statistics(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    if at_least(version, "2.88"):
        raise NotFound("The resource could not be found.")
    items = compute(request).hosts.hypervisors(ctx, "statistics")
    rendered = [views.hypervisor(h, APIVersion(2, 1), True) for h in items]
    keys = (
        "vcpus",
        "memory_mb",
        "local_gb",
        "vcpus_used",
        "memory_mb_used",
        "local_gb_used",
        "free_ram_mb",
        "free_disk_gb",
        "current_workload",
        "running_vms",
        "disk_available_least",
    )
    stats = {k: sum(h[k] for h in rendered) for k in keys}
    stats["count"] = len(rendered)
    return JSONResponse({"hypervisor_statistics": stats})


@router.get("/os-hypervisors/{hypervisor_id}")
def show_hypervisor(
    request: Request, hypervisor_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    hosts = compute(request).hosts
    with_servers = request.query_params.get("with_servers", "").lower() in ("1", "true", "yes")
    node_id = hosts.node_id(ctx, hypervisor_id, legacy=not at_least(version, "2.53"))
    item = hosts.hypervisor(ctx, node_id, with_servers)
    return JSONResponse({"hypervisor": views.hypervisor(item, version, True, with_servers)})


@router.get("/os-hypervisors/{hypervisor_id}/uptime")
def hypervisor_uptime(
    request: Request, hypervisor_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    hosts = compute(request).hosts
    node_id = hosts.node_id(ctx, hypervisor_id, legacy=not at_least(version, "2.53"))
    item, uptime = hosts.uptime(ctx, node_id)
    body = views.hypervisor(item, version, False)
    body["uptime"] = uptime
    return JSONResponse({"hypervisor": body})


@router.get("/os-hypervisors/{pattern}/servers")
def hypervisor_servers(
    request: Request, pattern: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    if at_least(version, "2.53"):
        raise NotFound("The resource could not be found.")
    items = compute(request).hosts.hypervisors(ctx, "servers", pattern, True)
    if not items:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return JSONResponse({"hypervisors": [views.hypervisor(h, version, False, True) for h in items]})


@router.get("/os-hypervisors/{pattern}/search")
def hypervisor_search(
    request: Request, pattern: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    """Hypervisors whose name contains ``pattern`` (until 2.53; then the
    ``hypervisor_hostname_pattern`` filter of the list)."""
    if at_least(version, "2.53"):
        raise NotFound("The resource could not be found.")
    items = compute(request).hosts.hypervisors(ctx, "search", pattern)
    if not items:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return JSONResponse({"hypervisors": [views.hypervisor(h, version, False) for h in items]})


# -- simple tenant usage --------------------------------------------------------


def _period(request: Request) -> tuple[datetime, datetime]:
    params = request.query_params
    now = datetime.now(UTC)
    end = parse_time(params["end"], "end") if params.get("end") else now
    start = (
        parse_time(params["start"], "start")
        if params.get("start")
        else end.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    return start, end


def _usage_view(summary: dict[str, Any], detailed: bool) -> dict[str, Any]:
    body = {k: v for k, v in summary.items() if k != "server_usages"}
    body["start"] = views.iso_us(summary["start"])
    body["stop"] = views.iso_us(summary["stop"])
    if detailed:
        body["server_usages"] = [
            {
                "instance_id": u["instance"].id,
                "name": u["instance"].name,
                "hours": u["hours"],
                "memory_mb": u["instance"].memory_mb,
                "local_gb": u["instance"].root_gb,
                "vcpus": u["instance"].vcpus,
                "tenant_id": u["instance"].project_id,
                "flavor": (u["instance"].flavor or {}).get("name"),
                "started_at": views.iso_us(u["instance"].launched_at or u["instance"].created_at),
                "ended_at": views.iso_us(u["instance"].terminated_at),
                "state": "terminated" if u["instance"].deleted else u["instance"].vm_state,
                "uptime": int(u["hours"] * 3600),
            }
            for u in summary["server_usages"]
        ]
    return body


@router.get("/os-simple-tenant-usage")
def list_usage(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    start, end = _period(request)
    detailed = request.query_params.get("detailed", "0") in ("1", "true", "True")
    items = compute(request).hosts.usage(ctx, None, start, end)
    return JSONResponse({"tenant_usages": [_usage_view(s, detailed) for s in items]})


@router.get("/os-simple-tenant-usage/", include_in_schema=False)
def show_usage_of_no_project(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    """A project id left empty: Nova's 404, not the list (a redirect to it)."""
    raise NotFound("The resource could not be found.")


@router.get("/os-simple-tenant-usage/{project_id}")
def show_usage(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    start, end = _period(request)
    items = compute(request).hosts.usage(ctx, project_id, start, end)
    return JSONResponse({"tenant_usage": _usage_view(items[0], True) if items else {}})
