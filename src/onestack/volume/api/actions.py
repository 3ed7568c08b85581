"""``POST /v3/{project_id}/volumes/{id}/action``: one action per body key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotSupported
from onestack.common.microversion import APIVersion
from onestack.volume.api import views
from onestack.volume.api.deps import Body, Ctx, Version, at_least, service
from onestack.volume.manager import VolumeService

router = APIRouter()

UNSUPPORTED = {
    "os-migrate_volume": "Volume migration (one backend per host)",
    "os-migrate_volume_completion": "Volume migration (one backend per host)",
    "os-unmanage": "Unmanaging volumes",
    "os-reimage": "Re-imaging volumes",
    "os-extend_volume_completion": "Extend completion events",
    "os-force_detach": None,
}


def _args(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field/attribute {key}: must be an object.")
    return value


@router.post("/v3/volumes/{volume_id}/action")
def action(
    request: Request,
    volume_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the request body.")
    name = next(iter(body))
    args = _args(body, name)
    svc = service(request)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(svc, ctx, volume_id, args, version)
    if name == "os-force_detach":
        svc.attachments.detach(ctx, volume_id, args.get("attachment_id"))
        return Response(status_code=202)
    if name in UNSUPPORTED:
        raise NotSupported(operation=UNSUPPORTED[name] or name)
    raise BadRequest(f"There is no such action: {name}")


def _accepted() -> Response:
    return Response(status_code=202)


def _extend(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if "new_size" not in a:
        raise BadRequest("Invalid input for field/attribute os-extend: 'new_size' is required")
    s.actions.extend(ctx, vid, a["new_size"], attached_ok=at_least(v, "3.42"))
    return _accepted()


def _bootable(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if "bootable" not in a:
        raise BadRequest("Must specify bootable in request.")
    s.actions.set_bootable(ctx, vid, a["bootable"])
    return Response(status_code=200)


def _readonly(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if "readonly" not in a:
        raise BadRequest("Must specify readonly in request.")
    s.actions.set_readonly(ctx, vid, a["readonly"])
    return _accepted()


def _reserve(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.attachments.reserve(ctx, vid)
    return _accepted()


def _unreserve(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.attachments.unreserve(ctx, vid)
    return _accepted()


def _init(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if "connector" not in a:
        raise BadRequest("Must specify 'connector'")
    info = s.attachments.initialize_connection(ctx, vid, a["connector"])
    return JSONResponse({"connection_info": info})


def _terminate(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if "connector" not in a:
        raise BadRequest("Must specify 'connector'")
    s.attachments.terminate_connection(ctx, vid, a["connector"])
    return _accepted()


def _attach(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    instance, host = a.get("instance_uuid"), a.get("host_name")
    if not instance and not host:
        raise BadRequest("Invalid request to attach volume to an invalid target")
    if "mountpoint" not in a:
        raise BadRequest("Must specify 'mountpoint'")
    mode = str(a.get("mode", "rw"))
    if mode not in ("rw", "ro"):
        raise BadRequest(
            "Invalid request to attach volume with an invalid mode. Attaching mode "
            "should be 'rw' or 'ro'"
        )
    s.attachments.attach(ctx, vid, instance, a.get("mountpoint"), mode, host)
    return _accepted()


def _begin_detaching(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.attachments.begin_detaching(ctx, vid)
    return _accepted()


def _roll_detaching(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.attachments.roll_detaching(ctx, vid)
    return _accepted()


def _detach(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.attachments.detach(ctx, vid, a.get("attachment_id"))
    return _accepted()


def _set_image_meta(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    meta = s.actions.set_image_metadata(ctx, vid, a.get("metadata"))
    return JSONResponse({"metadata": meta})


def _unset_image_meta(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.actions.unset_image_metadata(ctx, vid, a.get("key"))
    return Response(status_code=200)


def _show_image_meta(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    return JSONResponse({"metadata": s.actions.image_metadata(ctx, vid)})


def _reset_status(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.actions.reset_status(ctx, vid, a)
    return _accepted()


def _force_delete(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.volumes.delete(ctx, vid, cascade=False, force=True)
    return _accepted()


def _retype(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    s.actions.retype(ctx, vid, a.get("new_type"))
    return _accepted()


def _revert(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    if not at_least(v, "3.40"):
        raise BadRequest("There is no such action: revert")
    s.actions.revert(ctx, vid, a.get("snapshot_id"))
    return _accepted()


def _upload(
    s: VolumeService, ctx: RequestContext, vid: str, a: dict[str, Any], v: APIVersion
) -> Response:
    volume, _image_id, info = s.actions.upload_to_image(ctx, vid, a)
    details = s.volumes.details([volume])
    body = {
        "id": volume.id,
        "updated_at": views.ts(volume.updated_at),
        "status": "uploading",
        "display_description": volume.description,
        "size": volume.size,
        "volume_type": {"name": details.type_names.get(volume.volume_type_id)},
        **info,
    }
    return JSONResponse({"os-volume_upload_image": body}, status_code=202)


_HANDLERS = {
    "os-extend": _extend,
    "os-set_bootable": _bootable,
    "os-update_readonly_flag": _readonly,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-initialize_connection": _init,
    "os-terminate_connection": _terminate,
    "os-attach": _attach,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-detach": _detach,
    "os-set_image_metadata": _set_image_meta,
    "os-unset_image_metadata": _unset_image_meta,
    "os-show_image_metadata": _show_image_meta,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "os-retype": _retype,
    "revert": _revert,
    "os-volume_upload_image": _upload,
}
