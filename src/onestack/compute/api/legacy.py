"""Older compute APIs Nova still serves: ``os-hosts`` (until 2.42),
``extensions``, ``os-quota-class-sets`` and ``os-instance_usage_audit_log``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute
from onestack.compute.quotas import LEGACY, REMOVED_IN_2_57

router = APIRouter(prefix="/v2.1")

# -- extensions -------------------------------------------------------------------------

#: (name, alias, description) of each Nova extension whose API onestack serves, at
#: least in part (docs/api-coverage/compute.md says how much)
EXTENSIONS = (
    ("DiskConfig", "OS-DCF", "Disk Management Extension."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."),
    ("ImageSize", "OS-EXT-IMG-SIZE", "Adds image size to image listings."),
    ("ExtendedIps", "OS-EXT-IPS", "Adds type parameter to the ip list."),
    ("ExtendedIpsMac", "OS-EXT-IPS-MAC", "Adds mac address parameter to the ip list."),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."),
    ("ExtendedStatus", "OS-EXT-STS", "Extended Status support."),
    ("FlavorExtraData", "OS-FLV-EXT-DATA", "Provide additional data for flavors."),
    ("ServerUsage", "OS-SRV-USG", "Adds launched_at and terminated_at on Servers."),
    ("AccessIPs", "os-access-ips", "Access IPs support."),
    ("AdminActions", "os-admin-actions", "Enable admin-only server actions."),
    ("Aggregates", "os-aggregates", "Admin-only aggregate administration."),
    ("AttachInterfaces", "os-attach-interfaces", "Attach interface support."),
    ("AvailabilityZone", "os-availability-zone", "1. Add availability_zone to the Create "
     "Server API. 2. Add availability zones describing."),
    ("BlockDeviceMapping", "os-block-device-mapping", "Block device mapping boot support."),
    ("ConfigDrive", "os-config-drive", "Config Drive Extension."),
    ("ConsoleOutput", "os-console-output", "Console log output support."),
    ("Consoles", "os-consoles", "Interactive Console support."),
    ("ExtendedHypervisors", "os-extended-hypervisors", "Extended hypervisors support."),
    ("ExtendedServices", "os-extended-services", "Extended services support."),
    ("ExtendedVolumes", "os-extended-volumes", "Extended Volumes support."),
    ("FlavorAccess", "os-flavor-access", "Flavor access support."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."),
    ("FlavorManage", "os-flavor-manage", "Flavor create/delete API support."),
    ("FlavorRxtx", "os-flavor-rxtx", "Support to show the rxtx status of a flavor."),
    ("FlavorSwap", "os-flavor-swap", "Support to show the swap status of a flavor."),
    ("FloatingIpPools", "os-floating-ip-pools", "Floating IPs support."),
    ("FloatingIps", "os-floating-ips", "Floating IPs support."),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
    ("InstanceActions", "os-instance-actions", "View a log of actions and events taken on "
     "an instance."),
    ("OSInstanceUsageAuditLog", "os-instance_usage_audit_log", "Admin-only Task Log "
     "Monitoring."),
    ("Keypairs", "os-keypairs", "Keypair Support."),
    ("LockServer", "os-lock-server", "Enable lock/unlock server actions."),
    ("MultipleCreate", "os-multiple-create", "Allow multiple create in the Create Server "
     "v2.1 API."),
    ("Networks", "os-networks", "Admin-only Network Management Extension."),
    ("PauseServer", "os-pause-server", "Enable pause/unpause server actions."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Quotas", "os-quota-sets", "Quotas management support."),
    ("SecurityGroups", "os-security-groups", "Security group support."),
    ("ServerGroups", "os-server-groups", "Server group support."),
    ("ServerPassword", "os-server-password", "Server password support."),
    ("ServerStartStop", "os-server-start-stop", "Start/Stop instance compute API support."),
    ("Services", "os-services", "Services support."),
    ("SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."),
    ("SuspendServer", "os-suspend-server", "Enable suspend/resume server actions."),
    ("TenantNetworks", "os-tenant-networks", "Tenant-based Network Management Extension."),
    ("UserData", "os-user-data", "Add user_data to the Create Server API."),
    ("Volumes", "os-volumes", "Volumes support."),
)  # fmt: skip


def _extension(name: str, alias: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
        "updated": "2014-12-03T00:00:00Z",
        "links": [],
    }


@router.get("/extensions")
def list_extensions(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"extensions": [_extension(*e) for e in EXTENSIONS]})


@router.get("/extensions/{alias}")
def show_extension(request: Request, alias: str, ctx: RequestContext = Ctx) -> JSONResponse:
    for entry in EXTENSIONS:
        if entry[1] == alias:
            return JSONResponse({"extension": _extension(*entry)})
    raise NotFound(f"Extension {alias} could not be found.")


# -- os-hosts (until 2.42) --------------------------------------------------------------


def _hosts_removed(version: APIVersion) -> None:
    if at_least(version, "2.43"):
        raise NotFound("The resource could not be found.")


@router.get("/os-hosts")
def list_hosts(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _hosts_removed(version)
    zone = request.query_params.get("zone") or None  # Nova: a blank zone filters nothing
    return JSONResponse({"hosts": compute(request).legacy_hosts.hosts_list(ctx, zone)})


@router.get("/os-hosts/{host}")
def show_host(
    request: Request, host: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _hosts_removed(version)
    return JSONResponse({"host": compute(request).legacy_hosts.show(ctx, host)})


@router.put("/os-hosts/{host}")
def update_host(
    request: Request,
    host: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    _hosts_removed(version)
    if not isinstance(body, dict) or not body or set(body) - {"status", "maintenance_mode"}:
        raise BadRequest("Invalid input: 'status' or 'maintenance_mode' is required")
    status, maintenance = body.get("status"), body.get("maintenance_mode")
    if status is None and maintenance is None:
        raise BadRequest("Invalid input: 'status' or 'maintenance_mode' is required")
    for key, value in (("status", status), ("maintenance_mode", maintenance)):
        if value is not None and value not in ("enable", "disable"):
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
    result = compute(request).legacy_hosts.update(ctx, host, status, maintenance)
    return JSONResponse(result)


@router.get("/os-hosts/{host}/{action}")
def host_power_action(
    request: Request,
    host: str,
    action: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> Response:
    _hosts_removed(version)
    names = {"startup": "start", "shutdown": "shutdown", "reboot": "reboot"}
    if action not in names:
        raise NotFound("The resource could not be found.")
    compute(request).legacy_hosts.power_action(ctx, host, names[action])
    return Response(status_code=200)  # not reached: power_action raises


# -- os-quota-class-sets ---------------------------------------------------------------


def _class_view(values: dict[str, int], version: APIVersion) -> dict[str, Any]:
    body: dict[str, Any] = dict(values)
    if not at_least(version, "2.50"):
        body.pop("server_groups", None)
        body.pop("server_group_members", None)
    else:
        for key in LEGACY:
            body.pop(key, None)
    if at_least(version, "2.57"):
        for key in REMOVED_IN_2_57:
            body.pop(key, None)
    return body


@router.get("/os-quota-class-sets/{quota_class}")
def show_quota_class(
    request: Request, quota_class: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    values = compute(request).quotas.class_limits(ctx, quota_class)
    return JSONResponse({"quota_class_set": {"id": quota_class, **_class_view(values, version)}})


@router.put("/os-quota-class-sets/{quota_class}")
def update_quota_class(
    request: Request,
    quota_class: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not isinstance(body, dict) or not isinstance(body.get("quota_class_set"), dict):
        raise BadRequest("Invalid input: 'quota_class_set' is a required property")
    allowed = set(_class_view(compute(request).quotas.class_limits(ctx, quota_class), version))
    limits: dict[str, int] = {}
    for key, value in body["quota_class_set"].items():
        if key not in allowed:
            raise BadRequest(f"Additional properties are not allowed ('{key}' was unexpected)")
        if isinstance(value, bool):
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.") from None
        if number < -1:
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
        limits[key] = number
    values = compute(request).quotas.update_class(ctx, quota_class, limits)
    return JSONResponse({"quota_class_set": _class_view(values, version)})


# -- os-instance_usage_audit_log -------------------------------------------------------


@router.get("/os-instance_usage_audit_log")
def list_audit_logs(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    log = compute(request).legacy_hosts.audit_log(ctx, None)
    return JSONResponse({"instance_usage_audit_logs": log})


@router.get("/os-instance_usage_audit_log/{before}")
def show_audit_log(request: Request, before: str, ctx: RequestContext = Ctx) -> JSONResponse:
    text = unquote(before)
    when = None
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            when = datetime.strptime(text, layout).replace(tzinfo=UTC)
            break
        except ValueError:
            continue
    if when is None:
        raise BadRequest(f"Invalid timestamp for date {text}")
    log = compute(request).legacy_hosts.audit_log(ctx, when)
    return JSONResponse({"instance_usage_audit_log": log})
