"""Static websites from containers (Swift's staticweb middleware).

It applies to anonymous ``GET``/``HEAD`` requests (or ones with
``X-Web-Mode: true``) on containers with these metadata:

- ``X-Container-Meta-Web-Index``: a request for the container or for a
  "directory" (a path ending in ``/``) serves ``<path><index>``;
- ``X-Container-Meta-Web-Listings: true``: without an index object, such a
  request gets an HTML listing (``X-Container-Meta-Web-Listings-CSS`` names a
  style sheet for it);
- ``X-Container-Meta-Web-Error``: a 404 serves the object ``404<error>``.

A container or directory request without the trailing ``/`` is redirected
(301) to it.  Reads still need the container's read ACL (``.r:*``, and
``.rlistings`` for listings), as for any anonymous read.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.exceptions import NotFound
from onestack.object.acl import Caller
from onestack.object.api import objects
from onestack.object.containers import listing_options
from onestack.object.listings import Subdir
from onestack.object.manager import ObjectManager

META = "x-container-meta-web-"
TRUE = ("true", "1", "yes", "on", "t", "y")


def web_mode(request: Request, caller: Caller) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    forced = request.headers.get("x-web-mode", "").lower() in TRUE
    return forced or not caller.ctx.authenticated


def _settings(manager: ObjectManager, account: str, container: str) -> dict[str, str] | None:
    row = manager.core.listings.container(account, container)
    if row is None:
        return None
    return {
        key[len(META) :]: str(value)
        for key, value in row.metadata_.items()
        if key.startswith(META) and value
    }


async def handle(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    obj: str,
) -> Response | None:
    """The static-web answer, or None when the request is an ordinary one."""
    settings = await run_in_threadpool(_settings, manager, account, container)
    if not settings:
        return None
    index = settings.get("index", "")
    listings = settings.get("listings", "").lower() in TRUE
    raw_path = request.scope["path"]
    if not obj or obj.endswith("/"):
        if not index and not listings:
            return None
        if not raw_path.endswith("/"):
            return _redirect(raw_path)
        if index:
            try:
                return await objects.get_or_head(
                    request, manager, caller, account, container, obj + index
                )
            except NotFound:
                if not listings:
                    return await _error(request, manager, caller, account, container, settings)
        return await _listing(request, manager, caller, account, container, obj, settings)
    try:
        return await objects.get_or_head(request, manager, caller, account, container, obj)
    except NotFound:
        if (index or listings) and await run_in_threadpool(
            _is_directory, manager, caller, account, container, obj
        ):
            return _redirect(raw_path)
        return await _error(request, manager, caller, account, container, settings)


def _redirect(path: str) -> Response:
    return Response(
        status_code=301, headers={"Location": quote(path) + "/"}, media_type="text/html"
    )


def _is_directory(
    manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> bool:
    options = listing_options({"prefix": obj + "/", "limit": "1"})
    try:
        _, _, items = manager.containers.list_objects(caller, account, container, options)
    except NotFound:
        return False
    return bool(items)


async def _error(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    settings: dict[str, str],
) -> Response:
    page = settings.get("error")
    if page:
        try:
            response = await objects.get_or_head(
                request, manager, caller, account, container, "404" + page
            )
        except NotFound:
            pass
        else:
            response.status_code = 404
            return response
    raise NotFound("The resource could not be found.")


async def _listing(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    prefix: str,
    settings: dict[str, str],
) -> Response:
    options = listing_options({"prefix": prefix, "delimiter": "/"})
    _, _, items = await run_in_threadpool(
        manager.containers.list_objects, caller, account, container, options
    )
    if prefix and not items:
        return await _error(request, manager, caller, account, container, settings)
    return Response(
        _render(container, prefix, items, settings.get("listings-css")),
        media_type="text/html; charset=UTF-8",
    )


def _render(container: str, prefix: str, items: list[Any], css: str | None) -> str:
    title = escape(f"Listing of /{container}/{prefix}")
    head = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">',
        "<html>",
        " <head>",
        f"  <title>{title}</title>",
    ]
    if css:
        href = escape(css if "://" in css or css.startswith("/") else quote(css), quote=True)
        head.append(f'  <link rel="stylesheet" type="text/css" href="{href}" />')
    rows = [
        " </head>",
        " <body>",
        f'  <h1 id="title">{title}</h1>',
        '  <table id="listing">',
        '   <tr id="heading"><th class="colname">Name</th><th class="colsize">Size</th>'
        '<th class="coldate">Date</th></tr>',
    ]
    if prefix:
        rows.append(
            '   <tr id="parent" class="item"><td class="colname"><a href="../">../</a></td></tr>'
        )
    for item in items:
        name = item.name[len(prefix) :]
        link = escape(quote(name), quote=True)
        if isinstance(item, Subdir):
            rows.append(
                f'   <tr class="item subdir"><td class="colname"><a href="{link}">'
                f'{escape(name)}</a></td><td class="colsize">&nbsp;</td>'
                '<td class="coldate">&nbsp;</td></tr>'
            )
        else:
            rows.append(
                f'   <tr class="item"><td class="colname"><a href="{link}">{escape(name)}</a>'
                f'</td><td class="colsize">{item.size}</td><td class="coldate">'
                f"{escape(str(item.last_modified))}</td></tr>"
            )
    rows += ["  </table>", " </body>", "</html>", ""]
    return "\n".join(head + rows)
