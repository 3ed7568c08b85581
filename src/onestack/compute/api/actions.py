"""``POST /v2.1/servers/{id}/action``: one handler per Nova action name.

Actions onestack does not implement (migration, shelve, ...) answer
501 ``notImplemented``; so does an action the driver of the server's host
cannot do (see ``server_actions.NEEDS``).  Remote consoles: ``consoles``.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, NotSupported
from onestack.common.microversion import APIVersion
from onestack.common.openapi import json_schema, request_body
from onestack.compute.api import schemas
from onestack.compute.api.consoles import LEGACY, legacy_action
from onestack.compute.api.deps import Body, Ctx, Version, at_least, base, compute, data
from onestack.compute.api.servers import render_changed
from onestack.compute.proxies import Gone

router = APIRouter(prefix="/v2.1")

SIMPLE = {
    "os-stop": ("stop", "servers:stop"),
    "os-start": ("start", "servers:start"),
    "pause": ("pause", "os-pause-server:pause"),
    "unpause": ("unpause", "os-pause-server:unpause"),
    "suspend": ("suspend", "os-suspend-server:suspend"),
    "resume": ("resume", "os-suspend-server:resume"),
}
UNSUPPORTED = {
    "evacuate": "Evacuation",
    "changePassword": "Changing the admin password",
    "addFixedIp": "Fixed IPs",
    "removeFixedIp": "Fixed IPs",
    "trigger_crash_dump": "Crash dumps",
}


# the actions handled one by one below, besides SIMPLE, LEGACY and UNSUPPORTED
_OTHERS = (
    "reboot", "lock", "unlock", "confirmResize", "revertResize", "os-getConsoleOutput",
    "forceDelete", "restore", "os-resetState", "addSecurityGroup", "removeSecurityGroup",
    "injectNetworkInfo", "resetNetwork", "unrescue", "shelve", "shelveOffload", "unshelve",
)  # fmt: skip
#: The OpenAPI description of an action body: one action name and its parameters
#: (described where a model checks them).
ACTION_BODY: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        **{name: {} for name in (*SIMPLE, *LEGACY, *UNSUPPORTED, *_OTHERS)},
        "rebuild": json_schema(schemas.Rebuild),
        "resize": json_schema(schemas.Resize),
        "createImage": json_schema(schemas.CreateImage),
        "createBackup": json_schema(schemas.CreateBackup),
        "rescue": {"anyOf": [json_schema(schemas.Rescue), {"type": "null"}]},
    },
}


@router.post("/servers/{server_id}/action", openapi_extra=request_body(schema=ACTION_BODY))
def server_action(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Malformed request body: exactly one action is required.")
    name, params = next(iter(body.items()))
    servers = compute(request).servers
    actions = compute(request).actions
    if name in SIMPLE:
        action, rule = SIMPLE[name]
        actions.simple_action(ctx, server_id, action, rule)
        return Response(status_code=202)
    if name == "reboot":
        kind = params.get("type") if isinstance(params, dict) else None
        if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
            raise BadRequest(
                "Invalid input for field/attribute type. Value: "
                f"{kind}. 'type' must be 'SOFT' or 'HARD'"
            )
        actions.reboot(ctx, server_id, kind.upper() == "HARD")
        return Response(status_code=202)
    if name == "lock":
        reason = params.get("locked_reason") if isinstance(params, dict) else None
        if reason is not None and not at_least(version, "2.73"):
            raise BadRequest("Invalid input: 'locked_reason' is not allowed before 2.73")
        actions.lock(ctx, server_id, reason)
        return Response(status_code=202)
    if name == "unlock":
        actions.unlock(ctx, server_id)
        return Response(status_code=202)
    if name == "rescue":
        req = data(schemas.Rescue, params if params is not None else {}, None)
        actions.rescue(ctx, server_id, req.rescue_image_ref, at_least(version, "2.87"))
        return JSONResponse({"adminPass": req.adminPass or secrets.token_urlsafe(9)})
    if name == "unrescue":
        actions.unrescue(ctx, server_id)
        return Response(status_code=202)
    if name in ("shelve", "shelveOffload"):
        if name == "shelve":
            actions.shelve(ctx, server_id)
        else:
            actions.shelve_offload(ctx, server_id)
        return Response(status_code=202)
    if name == "unshelve":
        zone, host = _unshelve_params(params, version)
        actions.unshelve(ctx, server_id, zone, host)
        return Response(status_code=202)
    if name == "rebuild":
        return _rebuild(request, server_id, ctx, params, version)
    if name == "resize":
        req = data(schemas.Resize, params, None)
        disk = None if req.OS_DCF_diskConfig is None else req.OS_DCF_diskConfig == "AUTO"
        actions.resize(ctx, server_id, str(req.flavorRef), disk)
        return Response(status_code=202)
    if name in ("confirmResize", "revertResize"):
        actions.confirm_or_revert(ctx, server_id, name)
        return Response(status_code=204 if name == "confirmResize" else 202)
    if name in ("createImage", "createBackup"):
        if name == "createImage":
            req = data(schemas.CreateImage, params, None)
            image_id = actions.create_image(ctx, server_id, req.name, req.metadata)
        else:
            backup = data(schemas.CreateBackup, params, None)
            image_id = actions.create_backup(
                ctx, server_id, backup.name, backup.backup_type, backup.rotation, backup.metadata
            )
        location = f"{base(request)}/v2/images/{image_id}"
        if at_least(version, "2.45"):
            return JSONResponse({"image_id": image_id}, status_code=202)
        return Response(status_code=202, headers={"Location": location})
    if name == "os-getConsoleOutput":
        length = params.get("length") if isinstance(params, dict) else None
        if length is not None:
            try:
                length = int(length)
            except (TypeError, ValueError):
                raise BadRequest("Invalid input for field/attribute length.") from None
            if length < -1:
                raise BadRequest("Invalid input for field/attribute length.")
            if length == -1:
                length = None
        output = actions.console_output(ctx, server_id, length)
        return JSONResponse({"output": output})
    if name in ("forceDelete", "restore"):
        inst = servers.get(ctx, server_id)  # an unknown server is a 404 first
        raise Conflict(
            f"Cannot '{name}' instance {server_id} while it is in vm_state "
            f"{inst.vm_state}: soft delete is not enabled"
        )
    if name == "os-resetState":
        state = params.get("state") if isinstance(params, dict) else None
        if state not in ("active", "error"):
            raise BadRequest("Invalid input for field/attribute state.")
        actions.reset_state(ctx, server_id, state)
        return Response(status_code=202)
    if name == "injectNetworkInfo":
        compute(request).admin_actions.inject_network_info(ctx, server_id)
        return Response(status_code=202)
    if name == "resetNetwork":
        raise Gone("This resource is no longer available: resetNetwork was removed from Nova.")
    if name in LEGACY:
        return legacy_action(request, server_id, ctx, name, params, version)
    if name in ("addSecurityGroup", "removeSecurityGroup"):
        group = params.get("name") if isinstance(params, dict) else None
        if not isinstance(group, str) or not group:
            raise BadRequest("Invalid input for field/attribute name.")
        compute(request).interfaces.change_security_group(
            ctx, server_id, group, add=name == "addSecurityGroup"
        )
        return Response(status_code=202)
    if name in ("addFloatingIp", "removeFloatingIp") and not at_least(version, "2.44"):
        servers.get(ctx, server_id)
        params = params if isinstance(params, dict) else {}
        proxy = compute(request).network_proxy
        if name == "addFloatingIp":
            proxy.associate(ctx, server_id, params.get("address"), params.get("fixed_address"))
        else:
            proxy.disassociate(ctx, server_id, params.get("address"))
        return Response(status_code=202)
    if name in ("migrate", "os-migrateLive"):
        host = params.get("host") if isinstance(params, dict) else None
        actions.migrate(ctx, server_id, name == "os-migrateLive", host)
    if name in UNSUPPORTED:
        servers.get(ctx, server_id)
        raise NotSupported(operation=UNSUPPORTED[name])
    raise BadRequest(f"There is no such action: {name}")


def _unshelve_params(params: Any, version: APIVersion) -> tuple[str | None, str | None]:
    """Nova's unshelve body: null before 2.77; from 2.77 an optional
    ``availability_zone``; from 2.91 also ``host`` and a null ``availability_zone``
    (unpin).  The zone and host asked for (None: not given)."""
    if params is None:
        return None, None
    if not at_least(version, "2.77") or not isinstance(params, dict):
        raise BadRequest("Invalid input for field/attribute unshelve.")
    allowed = {"availability_zone", "host"} if at_least(version, "2.91") else {"availability_zone"}
    extra = set(params) - allowed
    if extra:
        raise BadRequest(
            f"Additional properties are not allowed ('{sorted(extra)[0]}' was unexpected)"
        )
    zone = params.get("availability_zone")
    host = params.get("host")
    for key, value in (("availability_zone", zone), ("host", host)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise BadRequest(f"Invalid input for field/attribute {key}.")
    if "availability_zone" in params and zone is None and not at_least(version, "2.91"):
        raise BadRequest("Invalid input for field/attribute availability_zone.")
    return zone, host


def _rebuild(
    request: Request, server_id: str, ctx: RequestContext, params: Any, version: APIVersion
) -> Response:
    req = data(schemas.Rebuild, params, None)
    fields = req.model_dump(exclude_unset=True)
    for key, minimum in (
        ("description", "2.19"),
        ("key_name", "2.54"),
        ("user_data", "2.57"),
        ("hostname", "2.90"),
    ):
        if key in fields and not at_least(version, minimum):
            raise BadRequest(f"Additional properties are not allowed ('{key}' was unexpected)")
    changes: dict[str, Any] = {}
    for key, column in (
        ("name", "name"),
        ("metadata", "meta"),
        ("description", "description"),
        ("key_name", "key_name"),
        ("user_data", "user_data"),
        ("accessIPv4", "access_ip_v4"),
        ("accessIPv6", "access_ip_v6"),
        ("hostname", "hostname"),
    ):
        if key in fields:
            changes[column] = fields[key]
    if req.OS_DCF_diskConfig is not None:
        changes["auto_disk_config"] = req.OS_DCF_diskConfig == "AUTO"
    inst = compute(request).actions.rebuild(ctx, server_id, req.imageRef, changes)
    body = render_changed(request, inst, version, ctx, rebuild=True)
    body["adminPass"] = req.adminPass or secrets.token_urlsafe(9)
    return JSONResponse({"server": body}, status_code=202)
