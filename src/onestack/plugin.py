"""How a service plugs into the all-in-one server.

Each service package exposes ``PLUGIN`` in its ``service`` module (for example
``onestack.identity.service:PLUGIN``); ``onestack.server.SERVICES`` lists
them.  A plugin says which settings port it uses, which package holds its
tables and migrations, its default policy rules, what it adds to the
catalog, how to build its ASGI app, and what it runs in the background.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onestack.common.keystone_client import ServiceUser
    from onestack.config import Settings
    from onestack.identity.bootstrap import CatalogEntry
    from onestack.server import Cloud


@dataclass(frozen=True)
class ServicePlugin:
    #: the service's name in DESIGN.md's table and in ``settings.ports``
    name: str
    #: the package with ``models`` and ``migrations/versions`` (None: no tables)
    package: str | None
    policies: Mapping[str, str] = field(default_factory=dict)
    #: catalog entries for this service (empty: not in the catalog)
    catalog: Callable[[Settings], list[CatalogEntry]] = lambda settings: []
    #: builds the service's ASGI app (None: the service has no API of its own)
    build_app: Callable[[Cloud], Any] | None = None
    #: runs after the APIs listen and before the server reports ready
    start: Callable[[Cloud], Awaitable[None]] | None = None
    #: runs at shutdown, in reverse order of start
    stop: Callable[[Cloud], Awaitable[None]] | None = None
    #: runs once per start before the APIs listen, after migrations (bootstrap)
    prepare: Callable[[Cloud], None] | None = None
    #: the user it calls other services' APIs as (made at bootstrap; None: none), by
    #: the settings (see onestack.common.keystone_client)
    service_user: Callable[[Settings], ServiceUser] | None = None
    #: runs once per start in a worker thread, from the end of ``prepare`` while the
    #: APIs are built (slow, GIL-releasing work such as hashing and writing files);
    #: done before ``start``
    warm_up: Callable[[Cloud], None] | None = None
    #: runs on every service's app right after it is built, with the service's name
    #: (adds routes to another service's app or sets its ``state``)
    extend_app: Callable[[Cloud, str, Any], None] | None = None
