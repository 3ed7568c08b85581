"""Bulk operations: ``?bulk-delete``, ``?extract-archive`` and SLO ``multipart-manifest=delete``.

Their answers are a summary document (json, xml or plain, by ``Accept``)
with ``Response Status`` and per-item ``Errors``, as Swift's bulk middleware
returns; the HTTP status is 200 once the request was understood (the
outcome is the document's ``Response Status``, e.g. ``201 Created`` for an
extracted archive).
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.exceptions import BadRequest, NotFound, OneStackError
from onestack.object.acl import Caller
from onestack.object.api.http import guess_type
from onestack.object.large import _split_path, is_slo, manifest_bytes
from onestack.object.manager import ObjectManager
from onestack.object.upload import UploadSpec

MAX_DELETES = 10000
MAX_DELETE_BODY = 10000 * 1100


def render(request: Request, doc: dict[str, Any], root: str) -> Response:
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        return Response(json.dumps(doc), 200, media_type="application/json; charset=utf-8")
    if "xml" in accept:
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>']
        for key, value in doc.items():
            tag = key.lower().replace(" ", "_")
            if key == "Errors":
                inner = "".join(
                    f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>"
                    for n, s in value
                )
                parts.append(f"<errors>{inner}</errors>")
            else:
                parts.append(f"<{tag}>{escape(str(value))}</{tag}>")
        parts.append(f"</{root}>")
        return Response("".join(parts), 200, media_type="application/xml; charset=utf-8")
    lines = [f"{k}: {v}" for k, v in doc.items() if k != "Errors"]
    lines.append("Errors:")
    lines.extend(f"{n}, {s}" for n, s in doc["Errors"])
    return Response("\n".join(lines) + "\n", 200, media_type="text/plain; charset=utf-8")


def _status(exc: OneStackError) -> str:
    return f"{exc.code} {exc.title}"


def _delete_paths(
    manager: ObjectManager, caller: Caller, account: str, paths: list[str]
) -> dict[str, Any]:
    deleted = missing = 0
    errors: list[list[str]] = []
    for path in paths:
        container, _, obj = path.lstrip("/").partition("/")
        try:
            if obj:
                manager.objects.delete_object(caller, account, container, obj)
            elif container:
                manager.containers.delete_container(caller, account, container)
            else:
                raise BadRequest("Invalid bulk delete path.")
            deleted += 1
        except NotFound:
            missing += 1
        except OneStackError as exc:
            errors.append([path, _status(exc)])
    return {
        "Number Deleted": deleted,
        "Number Not Found": missing,
        "Response Body": "",
        "Response Status": "400 Bad Request" if errors else "200 OK",
        "Errors": errors,
    }


async def bulk_delete(
    request: Request, manager: ObjectManager, caller: Caller, account: str
) -> Response:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DELETE_BODY:
            raise BadRequest("Bulk delete body too large.")
    paths = [unquote(line.strip()) for line in body.decode(errors="replace").splitlines()]
    paths = [p for p in paths if p]
    if len(paths) > MAX_DELETES:
        raise BadRequest(f"Maximum bulk deletes per request is {MAX_DELETES}.")
    doc = await run_in_threadpool(_delete_paths, manager, caller, account, paths)
    return render(request, doc, "delete")


def _slo_segment_paths(
    manager: ObjectManager, account: str, container: str, obj: str, depth: int = 0
) -> list[str]:
    paths: list[str] = []
    for entry in json.loads(manifest_bytes(manager.core, account, container, obj)):
        seg_container, seg_obj = _split_path(entry["name"])
        if entry.get("sub_slo") and depth < 10:
            paths.extend(_slo_segment_paths(manager, account, seg_container, seg_obj, depth + 1))
        paths.append(f"/{seg_container}/{seg_obj}")
    return paths


async def delete_slo(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    obj: str,
) -> Response:
    def work() -> dict[str, Any]:
        manager.core.container_access(caller, account, container, write=True)
        stored = manager.core.stored(account, container, obj)
        if stored is None:
            return {
                "Number Deleted": 0,
                "Number Not Found": 1,
                "Response Body": "",
                "Response Status": "404 Not Found",
                "Errors": [],
            }
        paths = _slo_segment_paths(manager, account, container, obj) if is_slo(stored) else []
        return _delete_paths(manager, caller, account, [*paths, f"/{container}/{obj}"])

    doc = await run_in_threadpool(work)
    return render(request, doc, "delete")


async def extract_archive(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    prefix: str,
) -> Response:
    kind = request.query_params.get("extract-archive", "")
    modes = {"tar": "r:", "tar.gz": "r:gz", "tgz": "r:gz", "tar.bz2": "r:bz2"}
    if kind not in modes:
        raise BadRequest("Unsupported archive format; use tar, tar.gz or tar.bz2.")
    tmp_dir = manager.core.root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_dir) as spool:
        async for chunk in request.stream():
            await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
        doc = await run_in_threadpool(
            _extract, manager, caller, account, container, prefix, spool, modes[kind]
        )
    return render(request, doc, "extract")


def _extract(
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    prefix: str,
    spool: Any,
    mode: str,
) -> dict[str, Any]:
    created = 0
    errors: list[list[str]] = []
    try:
        archive = tarfile.open(fileobj=spool, mode=mode)  # type: ignore[call-overload]  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError):
        raise BadRequest("Invalid Tar File: not a readable archive.") from None
    known: set[str] = set()
    with archive:
        for member in archive:
            if not member.isfile():
                continue
            path = member.name.lstrip("./")
            if container:
                target_container, obj = container, prefix + path
            else:
                target_container, _, obj = path.partition("/")
            if not target_container or not obj:
                errors.append([member.name, "400 Bad Request"])
                continue
            try:
                if target_container not in known:
                    if manager.core.listings.container(account, target_container) is None:
                        manager.containers.put_container(caller, account, target_container, {})
                    known.add(target_container)
                handle = archive.extractfile(member)
                assert handle is not None
                spec = UploadSpec(content_type=guess_type(obj), length=member.size)
                manager.objects.write_object(
                    caller, account, target_container, obj, spec, _blocks(handle)
                )
                created += 1
            except OneStackError as exc:
                errors.append([member.name, _status(exc)])
    return {
        "Number Files Created": created,
        "Response Body": "",
        "Response Status": "400 Bad Request" if errors else "201 Created",
        "Errors": errors,
    }


def _blocks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(1 << 20):
        yield chunk
