"""What every part of the alarming service shares: the database, policy, settings,
the service's own session (the ``aodh`` user) and who may see which alarm.

Aodh's model: an administrator sees every project's alarms; anyone else is
limited to the project of their token (``limited_to_project``), and an alarm of
another project is not found.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from onestack.alarming.conf import AlarmingSettings
from onestack.alarming.exceptions import ClientSideError, MetricUnavailable
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.common.policy import Enforcer


def new_id() -> str:
    return str(uuid.uuid4())


class AlarmingCore:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: AlarmingSettings,
        identity_url: str,
    ) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings
        self.identity_url = identity_url
        #: the service user's session, set at start (the evaluator, notifiers, checks)
        self.session_factory: Callable[[str | None], KeystoneSession] | None = None
        self._session: KeystoneSession | None = None
        self._methods: tuple[float, list[str]] | None = None
        self._projects: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def enforce(
        self, ctx: RequestContext, rule: str, target: Mapping[str, Any] | None = None
    ) -> None:
        self.enforcer.enforce(ctx, rule, target or {"project_id": ctx.project_id})

    def allowed(
        self, ctx: RequestContext, rule: str, target: Mapping[str, Any] | None = None
    ) -> bool:
        return self.enforcer.authorize(ctx, rule, target or {"project_id": ctx.project_id})

    def limited_to_project(self, ctx: RequestContext) -> str | None:
        """None for an administrator, else the caller's project (Aodh's rbac)."""
        return None if self.allowed(ctx, "aodh:context_is_admin") else ctx.project_id

    # -- the service's own session ---------------------------------------------------

    def session(self, trust_id: str | None = None) -> KeystoneSession:
        if self.session_factory is None:
            raise MetricUnavailable(reason="the alarming service has not started")
        if trust_id is not None:
            return self.session_factory(trust_id)
        with self._lock:
            if self._session is None:
                self._session = self.session_factory(None)
            return self._session

    def aggregation_methods(self) -> list[str]:
        """The aggregation methods the Metric API offers (cached for an hour, as Aodh)."""
        now = time.monotonic()
        cached = self._methods
        if cached is not None and now - cached[0] < 3600:
            return cached[1]
        try:
            methods = self.session().request("metric", "GET", "/v1/capabilities")[
                "aggregation_methods"
            ]
        except ServiceError as exc:
            if 400 <= exc.status < 500:
                raise ClientSideError(error=exc.message) from None
            raise MetricUnavailable(reason=exc.message) from None
        self._methods = (now, list(methods))
        return list(methods)

    def project_id(self, name: str) -> str | None:
        """The id of a project of the default domain, by name (cached; None: unknown)."""
        with self._lock:
            if name in self._projects:
                return self._projects[name]
        try:
            found = (
                self.session()
                .request(
                    "identity", "GET", "/projects", params={"name": name, "domain_id": "default"}
                )
                .get("projects", [])
            )
        except ServiceError:
            return None
        project = str(found[0]["id"]) if found else None
        with self._lock:
            self._projects[name] = project
        return project

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
