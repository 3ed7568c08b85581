"""Resources that are nested stacks: template resources, ResourceGroup,
AutoScalingGroup (with ScalingPolicy) and OS::Heat::Stack.

A nested stack is a stack of its own (listed with ``show_nested``, with its own
events) whose owner is this resource; it acts with the owner stack's trust.
Its outputs are the resource's attributes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Any

from onestack.orchestration.exceptions import ResourceFailure, StackValidationFailed
from onestack.orchestration.resources.base import Prop, Resource, traverse
from onestack.orchestration.template.format import parse_template


class NestedStackResource(Resource):
    """What every nested-stack resource shares."""

    def child_template(self) -> dict[str, Any]:
        raise NotImplementedError

    def child_params(self) -> dict[str, Any]:
        return {}

    def child_files(self) -> dict[str, Any] | None:
        return None

    async def create(self) -> None:
        await self.stack.engine.create_nested(
            self, self.child_template(), self.child_params(), files=self.child_files()
        )

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        self.properties = new
        await self.stack.engine.update_nested(
            self, self.child_template(), self.child_params(), files=self.child_files()
        )

    async def delete(self) -> None:
        await self.stack.engine.delete_nested(self)

    def child(self) -> Any:
        return self.stack.engine.nested(self)

    async def refresh(self) -> None:
        child = await asyncio.to_thread(self.child)
        if child is None:
            return
        await child.refresh_all()
        members = []
        assert child.definition is not None
        for name in self.member_names(child):
            resource = child.resources.get(name)
            members.append(
                {
                    "name": name,
                    "ref": resource.reference() if resource else None,
                    "attrs": dict(resource.attrs) if resource else {},
                }
            )
        try:
            outputs = child.definition.resolved_outputs()
        except Exception:  # an output that cannot be resolved yet is just absent
            outputs = {}
        self.attrs.clear()
        self.attrs.update({"_outputs": outputs, "_members": members, "OS::stack_id": child.id})

    def member_names(self, child: Any) -> list[str]:
        return sorted(child.resources)

    async def check(self) -> None:
        child = await asyncio.to_thread(self.child)
        if child is None:
            raise ResourceFailure("The nested stack is gone.")

    async def suspend(self) -> None:
        await self._each("SUSPEND", True, "suspend")

    async def resume(self) -> None:
        await self._each("RESUME", False, "resume")

    async def _each(self, action: str, reverse: bool, method: str) -> None:
        child = await asyncio.to_thread(self.child)
        if child is None:
            return

        async def body(runtime: Any) -> None:
            await runtime.each(action, reverse, lambda r: getattr(r, method)())

        if not await self.stack.engine.perform(child, action, body):
            raise ResourceFailure(f"Nested stack {action} failed")


class TemplateResource(NestedStackResource):
    """A type that names a template (a file of the stack, or mapped in the environment)."""

    type_name = ""
    properties_schema = {"*": Prop("any", update_allowed=True)}

    def child_template(self) -> dict[str, Any]:
        assert self.stack.definition is not None
        definition = self.stack.definition.resources.get(self.name)
        text = definition.nested_template if definition is not None else None
        if text is None:
            raise ResourceFailure(f"The template of {self.state.type} is not in the files.")
        return parse_template(text, self.stack.engine.settings.max_template_size)

    def child_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.properties.items() if v is not None}

    def reference(self) -> Any:
        outputs = self.attrs.get("_outputs") or {}
        if "OS::stack_id" in outputs:
            return outputs["OS::stack_id"]
        return self.physical_id or self.name

    def attribute(self, name: str, path: Sequence[Any] = ()) -> Any:
        outputs = self.attrs.get("_outputs") or {}
        if name == "OS::stack_id":
            value: Any = self.physical_id
        elif name in outputs:
            value = outputs[name]
        elif name == "show":
            value = {"outputs": outputs}
        else:
            value = None
        return traverse(value, path)


def _replace_index(value: Any, index_var: str, index: int) -> Any:
    if isinstance(value, str):
        return value.replace(index_var, str(index))
    if isinstance(value, dict):
        return {k: _replace_index(v, index_var, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_index(v, index_var, index) for v in value]
    return value


class GroupAttributes(NestedStackResource):
    """refs, refs_map, resource.N, and any member attribute as a list."""

    def attribute(self, name: str, path: Sequence[Any] = ()) -> Any:
        members = self.attrs.get("_members") or []
        if name == "refs":
            return traverse([m["ref"] for m in members], path)
        if name == "refs_map":
            return traverse({m["name"]: m["ref"] for m in members}, path)
        if name in ("current_size",):
            return len(members)
        if name == "outputs" and path:
            return {m["name"]: m["attrs"].get(path[0]) for m in members}
        if name == "outputs_list" and path:
            return [m["attrs"].get(path[0]) for m in members]
        if name == "attributes" and path:
            return {m["name"]: traverse(m["attrs"].get(path[0]), path[1:]) for m in members}
        if name.startswith("resource."):
            parts = name.split(".", 2)
            member = next((m for m in members if m["name"] == parts[1]), None)
            if member is None:
                return None
            if len(parts) == 3:
                return traverse(member["attrs"].get(parts[2]), path)
            if path:
                return traverse(member["attrs"].get(path[0]), path[1:])
            return member["ref"]
        if name == "removed_rsrc_list":
            return list(self.data.get("removed", []))
        if name == "show":
            return {"members": [m["name"] for m in members]}
        return [traverse(m["attrs"].get(name), path) for m in members]

    def member_names(self, child: Any) -> list[str]:
        names = list(child.resources)
        return sorted(names, key=lambda n: (len(n), n))


class ResourceGroup(GroupAttributes):
    type_name = "OS::Heat::ResourceGroup"
    description = "A number of identically configured resources, in a nested stack."
    properties_schema = {
        "count": Prop("integer", "How many resources.", default=1, min=0, update_allowed=True),
        "index_var": Prop("string", "Replaced by each member's index.", default="%index%"),
        "resource_def": Prop(
            "map",
            "The definition of each member.",
            required=True,
            update_allowed=True,
            schema={
                "type": Prop("string", required=True),
                "properties": Prop("map", default={}),
                "metadata": Prop("map", default={}),
            },
        ),
        "removal_policies": Prop(
            "list", "Members to remove first.", default=[], update_allowed=True
        ),
        "removal_policies_mode": Prop(
            "string", default="append", update_allowed=True, allowed=("append", "update")
        ),
    }
    attributes_schema = {
        "refs": "Members' references.",
        "refs_map": "Members' references by index.",
        "attributes": "An attribute of every member, by index.",
        "removed_rsrc_list": "Members removed by removal_policies.",
        "*": "Member attributes.",
    }

    def child_template(self) -> dict[str, Any]:
        count = int(self.properties.get("count") or 0)
        definition = self.properties.get("resource_def") or {}
        index_var = self.properties.get("index_var") or "%index%"
        removed = set(self.data.get("removed", []))
        for policy in self.properties.get("removal_policies") or []:
            for name in policy.get("resource_list", []) if isinstance(policy, dict) else []:
                removed.add(str(name))
        self.data["removed"] = sorted(removed)
        names: list[str] = []
        index = 0
        while len(names) < count:
            if str(index) not in removed:
                names.append(str(index))
            index += 1
        resources = {}
        for name in names:
            member = {"type": definition["type"]}
            props = _replace_index(definition.get("properties") or {}, index_var, int(name))
            if props:
                member["properties"] = props
            if definition.get("metadata"):
                member["metadata"] = definition["metadata"]
            resources[name] = member
        return {"heat_template_version": "2015-04-30", "resources": resources}

    def child_files(self) -> dict[str, Any] | None:
        return None


class AutoScalingGroup(GroupAttributes):
    type_name = "OS::Heat::AutoScalingGroup"
    description = "A group of resources scaled by ScalingPolicy signals."
    properties_schema = {
        "min_size": Prop("integer", "Smallest size.", required=True, min=0, update_allowed=True),
        "max_size": Prop("integer", "Largest size.", required=True, min=0, update_allowed=True),
        "desired_capacity": Prop("integer", "Size to start with.", update_allowed=True),
        "cooldown": Prop("integer", "Seconds between scalings.", update_allowed=True),
        "resource": Prop(
            "map", "The member definition (type, properties).", required=True, update_allowed=True
        ),
        "rolling_updates": Prop(
            "map", "Accepted; members are updated together.", default={}, update_allowed=True
        ),
    }
    attributes_schema = {
        "outputs": "A member attribute by member.",
        "outputs_list": "A member attribute list.",
        "current_size": "The number of members.",
        "refs": "Members' references.",
        "refs_map": "Members' references by name.",
    }

    def capacity(self) -> int:
        if "capacity" in self.data:
            return int(self.data["capacity"])
        desired = self.properties.get("desired_capacity")
        low = int(self.properties.get("min_size") or 0)
        return int(desired) if desired is not None else low

    def child_template(self) -> dict[str, Any]:
        if int(self.properties["min_size"]) > int(self.properties["max_size"]):
            raise StackValidationFailed("min_size can not be greater than max_size")
        size = max(
            int(self.properties["min_size"]), min(self.capacity(), int(self.properties["max_size"]))
        )
        member = self.properties.get("resource") or {}
        if "type" not in member:
            raise StackValidationFailed("resource must have a type")
        names: list[str] = list(self.data.get("members", []))
        from onestack.orchestration.resources.base import short_id

        while len(names) < size:
            names.append(short_id())
        names = names[:size]
        self.data["members"] = names
        resources = {
            n: {k: v for k, v in member.items() if k in ("type", "properties", "metadata")}
            for n in names
        }
        return {"heat_template_version": "2015-04-30", "resources": resources}

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if new.get("desired_capacity") != old.get("desired_capacity"):
            self.data.pop("capacity", None)
        await super().update(new, old)

    async def adjust(self, adjustment: int, kind: str, min_step: int | None = None) -> None:
        current = self.capacity()
        if kind == "exact_capacity":
            target = adjustment
        elif kind == "percent_change_in_capacity":
            delta = current * adjustment / 100.0
            step = math.ceil(delta) if delta > 0 else math.floor(delta)
            if min_step and abs(step) < min_step:
                step = min_step if delta > 0 else -min_step
            target = current + step
        else:
            target = current + adjustment
        target = max(
            int(self.properties["min_size"]), min(target, int(self.properties["max_size"]))
        )
        if target == current:
            return
        self.data["capacity"] = target
        self.stack.transition(self, "UPDATE", "IN_PROGRESS", "Scaling")
        try:
            await self.stack.engine.update_nested(self, self.child_template(), {})
            await self.refresh()
        except Exception as exc:
            self.stack.transition(self, "UPDATE", "FAILED", str(exc))
            raise
        self.stack.transition(self, "UPDATE", "COMPLETE", f"Scaled to {target}")


class ScalingPolicy(Resource):
    type_name = "OS::Heat::ScalingPolicy"
    description = "Scales an AutoScalingGroup when signalled."
    properties_schema = {
        "auto_scaling_group_id": Prop("string", "The group.", required=True),
        "adjustment_type": Prop(
            "string",
            "How to read scaling_adjustment.",
            required=True,
            allowed=("change_in_capacity", "exact_capacity", "percent_change_in_capacity"),
            update_allowed=True,
        ),
        "scaling_adjustment": Prop("number", "The adjustment.", required=True, update_allowed=True),
        "cooldown": Prop(
            "integer", "Seconds after a scaling when signals are ignored.", update_allowed=True
        ),
        "min_adjustment_step": Prop("integer", "Smallest percent step.", update_allowed=True),
    }
    attributes_schema = {
        "alarm_url": "The signal URL (as signal_url).",
        "signal_url": "The URL to signal this policy.",
    }

    async def create(self) -> None:
        self.physical_id = self.physical_name()

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        self.properties = new

    async def refresh(self) -> None:
        endpoint = (
            f"{self.stack.engine.public_url}/v1/{self.stack.project_id}/stacks/"
            f"{self.stack.name}/{self.stack.id}/resources/{self.name}/signal"
        )
        self.attrs["signal_url"] = endpoint
        self.attrs["alarm_url"] = endpoint

    async def signal(self, details: Any) -> None:
        cooldown = self.properties.get("cooldown") or 0
        last = float(self.data.get("last_scaled", 0))
        if cooldown and time.time() - last < float(cooldown):
            return
        wanted = self.properties["auto_scaling_group_id"]
        group = next(
            (
                r
                for r in self.stack.resources.values()
                if isinstance(r, AutoScalingGroup) and (r.physical_id == wanted or r.name == wanted)
            ),
            None,
        )
        if group is None:
            raise ResourceFailure(f"Alarm {self.name} could not find scaling group named {wanted}")
        group_cooldown = group.properties.get("cooldown") or 0
        if group_cooldown and time.time() - float(group.data.get("last_scaled", 0)) < float(
            group_cooldown
        ):
            return
        await group.adjust(
            int(self.properties["scaling_adjustment"]),
            self.properties["adjustment_type"],
            self.properties.get("min_adjustment_step"),
        )
        self.data["last_scaled"] = time.time()
        group.data["last_scaled"] = time.time()
        self.stack.store.save_resource(self.stack.id, group.state)


class StackResource(NestedStackResource):
    type_name = "OS::Heat::Stack"
    description = "A nested stack from a template given inline (local region only)."
    properties_schema = {
        "template": Prop("string", "The template.", required=True, update_allowed=True),
        "parameters": Prop("map", "Its parameters.", default={}, update_allowed=True),
        "timeout": Prop("integer", "Minutes.", update_allowed=True),
        "context": Prop("map", "Only the local region is supported.", default={}),
    }
    attributes_schema = {"outputs": "The nested stack's outputs.", "stack_name": "Its name."}

    def child_template(self) -> dict[str, Any]:
        if (self.properties.get("context") or {}).get("region_name"):
            raise ResourceFailure("Stacks in other regions are not supported.")
        return parse_template(
            self.properties["template"], self.stack.engine.settings.max_template_size
        )

    def child_params(self) -> dict[str, Any]:
        return dict(self.properties.get("parameters") or {})

    def attribute(self, name: str, path: Sequence[Any] = ()) -> Any:
        outputs = self.attrs.get("_outputs") or {}
        if name == "outputs":
            return traverse(outputs, path)
        if name == "stack_name":
            return self.data.get("stack_name")
        return None
