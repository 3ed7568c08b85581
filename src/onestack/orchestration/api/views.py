"""How stacks, resources, events and software configs look on the wire (Heat v1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onestack.orchestration.inspection import ResourceRow
    from onestack.orchestration.models import (
        Event,
        Snapshot,
        SoftwareConfig,
        SoftwareDeployment,
        Stack,
    )
    from onestack.orchestration.stacks import StackDetail


def iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def stack_url(base: str, stack: Stack) -> str:
    return f"{base}/stacks/{stack.name}/{stack.id}"


def _parent(stack: Stack) -> str | None:
    return stack.parent_id


def stack_summary(base: str, stack: Stack) -> dict[str, Any]:
    return {
        "id": stack.id,
        "stack_name": stack.name,
        "description": _description(stack),
        "creation_time": iso(stack.created_at),
        "updated_time": iso(stack.updated_at),
        "deletion_time": iso(stack.deleted_at),
        "stack_status": f"{stack.action}_{stack.status}",
        "stack_status_reason": stack.status_reason,
        "stack_owner": stack.username,
        "stack_user_project_id": stack.project_id,
        "parent": _parent(stack),
        "tags": stack.tags,
        "project": stack.project_id,
        "links": [{"href": stack_url(base, stack), "rel": "self"}],
    }


def _description(stack: Stack) -> str:
    value = (stack.template or {}).get("description")
    return "No description" if value is None else str(value)


def stack_detail(base: str, detail: StackDetail) -> dict[str, Any]:
    stack = detail.row
    body = stack_summary(base, stack)
    body.update(
        disable_rollback=stack.disable_rollback,
        timeout_mins=stack.timeout_mins,
        capabilities=[],
        notification_topics=[],
        parameters=detail.parameters,
        template_description=detail.description,
    )
    if detail.outputs is not None:
        body["outputs"] = detail.outputs
    return body


def resource(
    base: str, found: ResourceRow, attributes: dict[str, Any] | None = None, nested_depth: int = 0
) -> dict[str, Any]:
    row, stack = found.row, found.stack
    url = f"{stack_url(base, stack)}/resources/{row.name}"
    links = [{"href": url, "rel": "self"}, {"href": stack_url(base, stack), "rel": "stack"}]
    if row.type and (row.physical_id and _is_nested(row)):
        links.append(
            {"href": f"{base}/stacks/{stack.name}-{row.name}/{row.physical_id}", "rel": "nested"}
        )
    body: dict[str, Any] = {
        "resource_name": row.name,
        "logical_resource_id": row.name,
        "physical_resource_id": row.physical_id or "",
        "resource_type": row.type,
        "resource_status": f"{row.action}_{row.status}",
        "resource_status_reason": row.status_reason,
        "creation_time": iso(row.created_at),
        "updated_time": iso(row.updated_at or row.created_at),
        "required_by": list(row.required_by or []),
        "links": links,
    }
    if nested_depth or stack.parent_id:
        body["parent_resource"] = stack.owner_resource
        body["stack_name"] = stack.name
    if attributes is not None:
        body["attributes"] = attributes
        body["description"] = ""
        body["metadata"] = row.rsrc_metadata or {}
    return body


def _is_nested(row: Any) -> bool:
    return (
        row.type in ("OS::Heat::ResourceGroup", "OS::Heat::AutoScalingGroup", "OS::Heat::Stack")
        or row.type.endswith((".yaml", ".yml", ".template"))
        or ("::" in row.type and row.type.split("::")[0] not in ("OS", "AWS"))
    )


def event(base: str, item: Event, stack: Stack, root: Stack | None = None) -> dict[str, Any]:
    stack_href = stack_url(base, stack)
    if item.resource_name == stack.name and item.resource_type == "OS::Heat::Stack":
        resource_href = stack_href
    else:
        resource_href = f"{stack_href}/resources/{item.resource_name}"
    links = [
        {"href": f"{stack_href}/resources/{item.resource_name}/events/{item.id}", "rel": "self"},
        {"href": resource_href, "rel": "resource"},
        {"href": stack_href, "rel": "stack"},
    ]
    if root is not None:
        links.append({"href": stack_url(base, root), "rel": "root_stack"})
    body = {
        "id": item.id,
        "event_time": iso(item.created_at),
        "resource_name": item.resource_name,
        "logical_resource_id": item.resource_name,
        "physical_resource_id": item.physical_resource_id or "",
        "resource_status": f"{item.action}_{item.status}",
        "resource_status_reason": item.reason,
        "links": links,
    }
    if root is not None and stack.id != root.id:
        body["stack_name"] = stack.name
    return body


def event_detail(base: str, item: Event, stack: Stack) -> dict[str, Any]:
    body = event(base, item, stack)
    body.update(resource_type=item.resource_type, resource_properties={})
    return body


def software_config(row: SoftwareConfig) -> dict[str, Any]:
    config = row.config or {}
    return {
        "id": row.id,
        "name": row.name,
        "group": row.group,
        "config": config.get("config"),
        "inputs": config.get("inputs") or [],
        "outputs": config.get("outputs") or [],
        "options": config.get("options"),
        "creation_time": iso(row.created_at),
        "project": row.project_id,
    }


def software_deployment(row: SoftwareDeployment) -> dict[str, Any]:
    return {
        "id": row.id,
        "config_id": row.config_id,
        "server_id": row.server_id,
        "action": row.action,
        "status": row.status,
        "status_reason": row.status_reason,
        "input_values": row.input_values or None,
        "output_values": row.output_values or None,
        "creation_time": iso(row.created_at),
        "updated_time": iso(row.updated_at),
    }


def snapshot(row: Snapshot) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "status_reason": row.status_reason,
        "creation_time": iso(row.created_at),
        "data": row.data,
    }
