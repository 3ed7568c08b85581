"""Alarm actions: what happens when an alarm changes state (Aodh's notifiers).

- ``log://``: a log line;
- ``http://`` and ``https://``: a POST of ``{"alarm_name", "alarm_id", "severity",
  "previous", "current", "reason", "reason_data"}`` (``aodh-alarm-ssl-verify=0`` in
  the query turns certificate checks off for that action);
- ``trust+http(s)://``: the same POST with a token scoped to the alarm's trust, as
  the alarm's owner (Heat's scaling policy ``signal_url`` accepts exactly this).

A failing action is logged with its traceback and never stops the others.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

import httpx

from onestack.alarming.trusts import is_trust, scrub
from onestack.common.keystone_client import KeystoneSession

LOG = logging.getLogger(__name__)

SCHEMES = ("log", "http", "https", "trust+http", "trust+https")


class Notifier:
    def __init__(
        self,
        trusted: Callable[[str], KeystoneSession],
        timeout: float = 10.0,
        retries: int = 0,
    ) -> None:
        self.trusted = trusted
        self.timeout = timeout
        self.retries = retries
        #: (action, payload) of every notification sent (newest last; tests read it)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def notify(self, actions: list[str], payload: dict[str, Any]) -> None:
        for action in actions:
            try:
                self._one(action, payload)
            except Exception:
                LOG.exception(
                    "alarming: action %s of alarm %s failed",
                    _scrubbed(action),
                    payload.get("alarm_id"),
                )

    def _one(self, action: str, payload: dict[str, Any]) -> None:
        url = urlsplit(action)
        if url.scheme == "log":
            LOG.info(
                "Notifying alarm %s %s of %s priority from %s to %s with action %s because %s.",
                payload["alarm_name"],
                payload["alarm_id"],
                payload["severity"],
                payload["previous"],
                payload["current"],
                action,
                payload["reason"],
            )
            self.sent.append((action, payload))
            return
        headers = {
            "Content-Type": "application/json",
            "x-openstack-request-id": f"req-{uuid.uuid4()}",
        }
        if is_trust(url):
            trust_id = url.username or ""
            session = self.trusted(trust_id)
            try:
                headers["X-Auth-Token"] = session.token()
            finally:
                session.close()
            netloc = url.netloc.rsplit("@", 1)[-1]
            url = SplitResult(
                url.scheme[len("trust+") :], netloc, url.path, url.query, url.fragment
            )
        if url.scheme not in ("http", "https"):
            LOG.error("alarming: action %s is unknown, cannot notify", _scrubbed(action))
            return
        verify = True
        if url.scheme == "https":
            options = parse_qs(url.query)
            verify = bool(int(options.get("aodh-alarm-ssl-verify", ["1"])[-1]))
        transport = httpx.HTTPTransport(retries=self.retries, verify=verify)
        with httpx.Client(timeout=self.timeout, transport=transport) as http:
            response = http.post(url.geturl(), content=json.dumps(payload), headers=headers)
        LOG.info(
            "Notifying alarm <%s> gets response: %s %s.",
            payload["alarm_id"],
            response.status_code,
            response.reason_phrase,
        )
        self.sent.append((_scrubbed(action), payload))


def _scrubbed(action: str) -> str:
    return scrub(action)
