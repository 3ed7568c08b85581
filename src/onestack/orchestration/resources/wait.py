"""WaitConditionHandle and WaitCondition: a stack waits for its instances to say so.

A handle gives an ``endpoint`` (through ``signal_url_base``: by default the
metadata address ``http://169.254.169.254/heat``, which the metadata server of
every tenant network forwards to the orchestration API, so instances on
isolated networks reach it too), a ``token`` (a secret of this handle, accepted
only by this handle's signal route) and ``curl_cli`` combining both, as Heat's
handle does.  Signals are stored as they arrive; the wait condition completes
once ``count`` SUCCESS signals are there, and fails at the first FAILURE or
after ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from typing import Any

from onestack.orchestration.exceptions import ResourceFailure
from onestack.orchestration.resources.base import Prop, Resource


class WaitConditionHandle(Resource):
    type_name = "OS::Heat::WaitConditionHandle"
    description = "Where instances signal a wait condition."
    properties_schema = {
        "signal_transport": Prop(
            "string",
            "How signals arrive (only TOKEN_SIGNAL here).",
            default="TOKEN_SIGNAL",
            allowed=("TOKEN_SIGNAL",),
        ),
    }
    attributes_schema = {
        "endpoint": "The signal URL.",
        "token": "The token to send with a signal.",
        "curl_cli": "A curl command line that signals the handle.",
        "signal": "JSON with the URL and the token.",
    }

    def endpoint(self) -> str:
        base = self.stack.engine.settings.signal_url_base.rstrip("/")
        return (
            f"{base}/v1/{self.stack.project_id}/stacks/{self.stack.name}/{self.stack.id}"
            f"/resources/{self.name}/signal"
        )

    async def create(self) -> None:
        self.data["secret"] = secrets.token_urlsafe(24)
        self.physical_id = self.physical_name()

    def accepts(self, token: str) -> bool:
        secret = self.data.get("secret")
        return bool(secret) and hmac.compare_digest(str(secret), token)

    async def refresh(self) -> None:
        token = str(self.data.get("secret") or "")
        endpoint = self.endpoint()
        self.attrs.update(
            endpoint=endpoint,
            token=token,
            curl_cli=(
                f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: "
                f"application/json' -H 'Accept: application/json' {endpoint}"
            ),
            signal=json.dumps({"url": endpoint, "token": token}),
        )

    async def signal(self, details: Any) -> None:
        """Stored by the API (``SignalManager``); nothing more to do here."""


class WaitCondition(Resource):
    type_name = "OS::Heat::WaitCondition"
    description = "Waits for signals on a handle."
    properties_schema = {
        "handle": Prop("string", "The WaitConditionHandle.", required=True),
        "timeout": Prop("number", "Seconds to wait.", required=True, min=1, max=43200),
        "count": Prop(
            "integer",
            "How many SUCCESS signals to wait for.",
            default=1,
            min=1,
            update_allowed=True,
        ),
    }
    attributes_schema = {"data": "JSON of the signals' data, by signal id."}

    def _handle_name(self) -> str:
        wanted = self.properties.get("handle")
        for name, resource in self.stack.resources.items():
            if resource.physical_id == wanted or name == wanted:
                return name
        raise ResourceFailure(f"The wait condition handle {wanted} is not in the stack.")

    async def create(self) -> None:
        handle = self._handle_name()
        count = int(self.properties.get("count") or 1)
        signals = self.stack.engine.signals

        async def check() -> bool | None:
            received = await asyncio.to_thread(signals.received, self.stack.id, handle)
            failures = [s for s in received if s["status"] == "FAILURE"]
            if failures:
                reasons = "; ".join(s["reason"] for s in failures)
                raise ResourceFailure(f"WaitConditionFailure: {reasons}")
            if len([s for s in received if s["status"] == "SUCCESS"]) >= count:
                return True
            return None

        self.physical_id = self.physical_name()
        await self.wait_for(
            check,
            what=f"{count} signal(s) on {handle}",
            timeout=float(self.properties.get("timeout") or 3600),
        )

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        self.properties = new
        await self.create()

    async def refresh(self) -> None:
        try:
            handle = self._handle_name()
        except ResourceFailure:
            return
        received = await asyncio.to_thread(
            self.stack.engine.signals.received, self.stack.id, handle
        )
        self.attrs["data"] = json.dumps({s["id"]: s["data"] for s in received})
