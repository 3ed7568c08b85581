"""A typed client of the Metric API over HTTP (what the pollers and the alarm
evaluator use, so that they work from any host)."""

from __future__ import annotations

import json
from typing import Any

from onestack.common.keystone_client import KeystoneSession, ServiceError


class UnknownResources(Exception):
    """The batch named resources the Metric API does not have (Gnocchi's 400)."""

    def __init__(self, resources: list[dict[str, str]]) -> None:
        super().__init__(f"{len(resources)} unknown resources")
        self.resources = resources


class MetricClient:
    SERVICE = "metric"

    def __init__(self, session: KeystoneSession) -> None:
        self.session = session

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(self.SERVICE, method, path, **kwargs)

    def batch_resources_measures(self, body: dict[str, Any], create_metrics: bool = True) -> None:
        params = {"create_metrics": "true" if create_metrics else "false"}
        try:
            self._call("POST", "/v1/batch/resources/metrics/measures", json=body, params=params)
        except ServiceError as exc:
            body_in = exc.body if isinstance(exc.body, dict) else {}
            description = body_in.get("description")
            if (
                exc.status == 400
                and isinstance(description, dict)
                and description.get("cause") == "Unknown resources"
            ):
                raise UnknownResources(list(description.get("detail") or [])) from None
            raise

    def create_resource(self, resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/v1/resource/{resource_type}", json=body)
        return result

    def update_resource(
        self, resource_type: str, resource_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/v1/resource/{resource_type}/{resource_id}", json=body
        )
        return result

    def search_resources(
        self, resource_type: str, query: dict[str, Any], limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Every matching resource (following the pages)."""
        found: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if marker:
                params["marker"] = marker
            page = self._call(
                "POST", f"/v1/search/resource/{resource_type}", json=query, params=params
            )
            found.extend(page)
            if len(page) < limit:
                return found
            marker = page[-1]["id"]

    def get_measures(
        self,
        metric: str,
        *,
        resource_id: str | None = None,
        aggregation: str = "mean",
        granularity: float | None = None,
        start: str | None = None,
        stop: str | None = None,
    ) -> list[list[Any]]:
        path = (
            f"/v1/resource/generic/{resource_id}/metric/{metric}/measures"
            if resource_id
            else f"/v1/metric/{metric}/measures"
        )
        params: dict[str, Any] = {"aggregation": aggregation}
        for key, value in (("granularity", granularity), ("start", start), ("stop", stop)):
            if value is not None:
                params[key] = value
        result: list[list[Any]] = self._call("GET", path, params=params)
        return result

    def aggregates(
        self,
        operations: Any,
        *,
        search: Any = None,
        resource_type: str = "generic",
        granularity: float | None = None,
        start: str | None = None,
        stop: str | None = None,
        needed_overlap: float | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"operations": operations}
        if search is not None:
            body["search"] = json.loads(search) if isinstance(search, str) else search
            body["resource_type"] = resource_type
        params: dict[str, Any] = {}
        for key, value in (
            ("granularity", granularity),
            ("start", start),
            ("stop", stop),
            ("needed_overlap", needed_overlap),
        ):
            if value is not None:
                params[key] = value
        result: dict[str, Any] = self._call("POST", "/v1/aggregates", json=body, params=params)
        return result

    def aggregation_methods(self) -> list[str]:
        return list(self._call("GET", "/v1/capabilities").get("aggregation_methods", []))
