"""Alarm resources, through the Alarming API (Aodh v2): OS::Aodh::GnocchiResourcesAlarm,
GnocchiAggregationByMetricsAlarm, GnocchiAggregationByResourcesAlarm and
CompositeAlarm, as Heat has them.

The alarm is made with the stack's trust-scoped token, so it belongs to the
stack's owner; an action ``trust+<a scaling policy's signal_url>`` makes the
alarm API create the trust the evaluator signals the policy with.  As in Heat,
``repeat_actions`` defaults to true (a scaling alarm keeps signalling while it
stays in alarm; the policy's cooldown spaces the scalings), and every property
but the alarm's type can change in place.
"""

from __future__ import annotations

from typing import Any, ClassVar

from onestack.orchestration.resources.base import Prop, Resource

_COMMON: dict[str, Prop] = {
    "description": Prop("string", "Description of the alarm.", update_allowed=True),
    "enabled": Prop(
        "boolean", "Whether the alarm is evaluated.", default=True, update_allowed=True
    ),
    "alarm_actions": Prop(
        "list", "URLs to call when the alarm goes to alarm.", update_allowed=True
    ),
    "ok_actions": Prop("list", "URLs to call when the alarm goes to ok.", update_allowed=True),
    "insufficient_data_actions": Prop(
        "list", "URLs to call when the alarm goes to insufficient data.", update_allowed=True
    ),
    "repeat_actions": Prop(
        "boolean",
        "Call the actions at every evaluation, not only on a change.",
        default=True,
        update_allowed=True,
    ),
    "severity": Prop(
        "string",
        "Severity of the alarm.",
        default="low",
        allowed=("low", "moderate", "critical"),
        update_allowed=True,
    ),
    "time_constraints": Prop(
        "list", "When the alarm is evaluated.", default=[], update_allowed=True
    ),
}
_THRESHOLD: dict[str, Prop] = {
    "comparison_operator": Prop(
        "string",
        "Operator comparing the aggregates with the threshold.",
        allowed=("ge", "gt", "eq", "ne", "lt", "le"),
        update_allowed=True,
    ),
    "evaluation_periods": Prop(
        "integer", "Number of periods to evaluate over.", update_allowed=True
    ),
    "threshold": Prop(
        "number", "Threshold to evaluate against.", required=True, update_allowed=True
    ),
    "aggregation_method": Prop(
        "string", "The aggregation method to compare to the threshold.", update_allowed=True
    ),
    "granularity": Prop("integer", "The time range in seconds.", update_allowed=True),
}
_ACTIONS = ("alarm_actions", "ok_actions", "insufficient_data_actions")


class AodhAlarm(Resource):
    service = "alarming"
    #: the alarm's type in the Alarming API
    alarm_type: ClassVar[str] = ""
    #: the rule's fields (the other properties are the alarm's)
    rule_fields: ClassVar[tuple[str, ...]] = ()
    attributes_schema = {"show": "The alarm as the Alarming API shows it."}

    def _body(self) -> dict[str, Any]:
        props = self.properties
        body: dict[str, Any] = {"name": self.physical_name(), "type": self.alarm_type}
        for key in ("description", "enabled", "repeat_actions", "severity", "time_constraints"):
            if props.get(key) is not None:
                body[key] = props[key]
        for key in _ACTIONS:
            actions = props.get(key)
            if actions is not None:
                body[key] = [str(a) for a in (actions if isinstance(actions, list) else [actions])]
        body[f"{self.alarm_type}_rule"] = self.rule()
        return body

    def rule(self) -> Any:
        return {
            k: self.properties[k] for k in self.rule_fields if self.properties.get(k) is not None
        }

    async def create(self) -> None:
        created = await self.cloud.request("alarming", "POST", "/v2/alarms", json_body=self._body())
        self.physical_id = str(created["alarm_id"])

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        self.properties = new
        await self.cloud.request(
            "alarming", "PUT", f"/v2/alarms/{self.physical_id}", json_body=self._body()
        )

    async def delete(self) -> None:
        if self.physical_id:
            await self.cloud.request(
                "alarming", "DELETE", f"/v2/alarms/{self.physical_id}", missing_ok=True,
                ok=(200, 204),
            )  # fmt: skip

    async def refresh(self) -> None:
        if not self.physical_id:
            return
        found = await self.cloud.request(
            "alarming", "GET", f"/v2/alarms/{self.physical_id}", missing_ok=True
        )
        if isinstance(found, dict):
            self.attrs.clear()
            self.attrs["show"] = found

    async def suspend(self) -> None:
        await self._enable(False)

    async def resume(self) -> None:
        await self._enable(True)

    async def _enable(self, enabled: bool) -> None:
        if not self.physical_id:
            return
        found = await self.cloud.request("alarming", "GET", f"/v2/alarms/{self.physical_id}")
        found["enabled"] = enabled
        await self.cloud.request(
            "alarming", "PUT", f"/v2/alarms/{self.physical_id}", json_body=found
        )


class GnocchiResourcesAlarm(AodhAlarm):
    type_name = "OS::Aodh::GnocchiResourcesAlarm"
    description = "An alarm on one metric of one resource of the Metric API."
    alarm_type = "gnocchi_resources_threshold"
    rule_fields = (*_THRESHOLD, "metric", "resource_id", "resource_type")
    properties_schema = {
        **_COMMON,
        **_THRESHOLD,
        "metric": Prop("string", "Metric name.", required=True, update_allowed=True),
        "resource_id": Prop("string", "Id of the resource.", required=True, update_allowed=True),
        "resource_type": Prop("string", "Resource type.", required=True, update_allowed=True),
    }


class GnocchiAggregationByMetricsAlarm(AodhAlarm):
    type_name = "OS::Aodh::GnocchiAggregationByMetricsAlarm"
    description = "An alarm on the aggregate of metrics by id."
    alarm_type = "gnocchi_aggregation_by_metrics_threshold"
    rule_fields = (*_THRESHOLD, "metrics")
    properties_schema = {
        **_COMMON,
        **_THRESHOLD,
        "metrics": Prop("list", "Metric ids.", required=True, update_allowed=True),
    }


class GnocchiAggregationByResourcesAlarm(AodhAlarm):
    type_name = "OS::Aodh::GnocchiAggregationByResourcesAlarm"
    description = "An alarm on the aggregate of a metric of the resources a query selects."
    alarm_type = "gnocchi_aggregation_by_resources_threshold"
    rule_fields = (*_THRESHOLD, "metric", "query", "resource_type")
    properties_schema = {
        **_COMMON,
        **_THRESHOLD,
        "metric": Prop("string", "Metric name.", required=True, update_allowed=True),
        "query": Prop(
            "string",
            "The query (a JSON search) selecting the resources.",
            required=True,
            update_allowed=True,
        ),
        "resource_type": Prop("string", "Resource type.", required=True, update_allowed=True),
    }


class CompositeAlarm(AodhAlarm):
    type_name = "OS::Aodh::CompositeAlarm"
    description = "An alarm combining threshold rules with and/or."
    alarm_type = "composite"
    properties_schema = {
        **_COMMON,
        "composite_rule": Prop(
            "map",
            "The rules ({'operator': 'and'|'or', 'rules': [...]}).",
            required=True,
            update_allowed=True,
        ),
    }

    def rule(self) -> Any:
        return _composite(self.properties["composite_rule"])


def _composite(rule: Any) -> Any:
    """Heat's ``{"operator": "and", "rules": [...]}`` as Aodh's ``{"and": [...]}``."""
    if isinstance(rule, dict) and "operator" in rule:
        return {str(rule["operator"]): [_composite(r) for r in rule.get("rules") or []]}
    return rule
