"""Heat's own resources that need no other service: RandomString, Value, None,
TestResource."""

from __future__ import annotations

import asyncio
import secrets
import string
from typing import Any

from onestack.orchestration.exceptions import ResourceFailure, StackValidationFailed
from onestack.orchestration.resources.base import Prop, Resource

_CLASSES = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "abcdef",
    "octdigits": string.octdigits,
}


class RandomString(Resource):
    type_name = "OS::Heat::RandomString"
    description = "A random string, kept for the life of the resource."
    properties_schema = {
        "length": Prop("integer", "Length of the string.", default=32, min=1, max=512),
        "sequence": Prop("string", "Deprecated character sequence.", allowed=tuple(_CLASSES)),
        "character_classes": Prop(
            "list",
            "Character classes and their minimum counts.",
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "class": Prop("string", default="lettersdigits", allowed=tuple(_CLASSES)),
                        "min": Prop("integer", default=1, min=1, max=512),
                    },
                )
            },
        ),
        "character_sequences": Prop(
            "list",
            "Character sequences and their minimum counts.",
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "sequence": Prop("string", required=True),
                        "min": Prop("integer", default=1, min=1, max=512),
                    },
                )
            },
        ),
        "salt": Prop("string", "A value whose change regenerates the string.", update_allowed=True),
    }
    attributes_schema = {"value": "The random string."}

    def generate(self) -> str:
        length = int(self.properties.get("length") or 32)
        pools: list[tuple[str, int]] = []
        for item in self.properties.get("character_classes") or []:
            pools.append(
                (_CLASSES[item.get("class") or "lettersdigits"], int(item.get("min") or 1))
            )
        for item in self.properties.get("character_sequences") or []:
            pools.append((str(item["sequence"]), int(item.get("min") or 1)))
        if not pools:
            pools = [(_CLASSES[self.properties.get("sequence") or "lettersdigits"], 0)]
        required = sum(m for _, m in pools)
        if required > length:
            raise ResourceFailure(
                "Length property cannot be smaller than combined character class and character "
                "sequence minimums"
            )
        chars = [secrets.choice(pool) for pool, minimum in pools for _ in range(minimum)]
        everything = "".join(dict.fromkeys("".join(p for p, _ in pools)))
        chars += [secrets.choice(everything) for _ in range(length - len(chars))]
        rng = secrets.SystemRandom()
        rng.shuffle(chars)
        return "".join(chars)

    async def create(self) -> None:
        value = self.generate()
        self.data["value"] = value
        self.physical_id = value

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        self.properties = new
        value = self.generate()
        self.data["value"] = value
        self.physical_id = value

    async def refresh(self) -> None:
        self.attrs["value"] = self.data.get("value")


class Value(Resource):
    type_name = "OS::Heat::Value"
    description = "A value (of any type) to refer to elsewhere in the template."
    properties_schema = {
        "value": Prop("any", "The value.", required=True, update_allowed=True),
        "type": Prop(
            "string",
            "The type of the value.",
            update_allowed=True,
            allowed=("string", "number", "comma_delimited_list", "json", "boolean"),
        ),
    }
    attributes_schema = {"value": "The value."}

    async def create(self) -> None:
        self.physical_id = self.physical_name()

    async def refresh(self) -> None:
        self.attrs["value"] = self.properties.get("value")


class NoneResource(Resource):
    type_name = "OS::Heat::None"
    description = "Does nothing; stands in for a resource type mapped to it."
    properties_schema = {"*": Prop("any", update_allowed=True)}
    attributes_schema = {"*": "Any attribute: always null."}

    async def create(self) -> None:
        self.physical_id = self.physical_name()

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        self.properties = new


class TestResource(Resource):
    type_name = "OS::Heat::TestResource"
    description = "A resource for testing: a value, a wait, and a failure on demand."
    properties_schema = {
        "value": Prop(
            "string",
            "The value of the output attribute.",
            default="test_string",
            update_allowed=True,
        ),
        "update_replace": Prop(
            "boolean",
            "Replace on update instead of updating in place.",
            default=False,
            update_allowed=True,
        ),
        "update_replace_value": Prop("string", "A value whose change replaces the resource."),
        "fail": Prop("boolean", "Fail the action.", default=False, update_allowed=True),
        "client_name": Prop("string", "Unused here.", default=""),
        "entity_name": Prop("string", "Unused here.", default=""),
        "wait_secs": Prop("number", "Seconds an action takes.", default=0, update_allowed=True),
        "action_wait_secs": Prop(
            "map",
            "Seconds per action (create, update, delete).",
            update_allowed=True,
            schema={"create": Prop("number"), "update": Prop("number"), "delete": Prop("number")},
        ),
        "attr_wait_secs": Prop("number", "Unused here.", default=0, update_allowed=True),
        "constraint_prop_secs": Prop("number", "Unused here.", default=0),
    }
    attributes_schema = {"output": "The value property.", "value": "The value property."}

    async def _wait(self, action: str) -> None:
        waits = self.properties.get("action_wait_secs") or {}
        seconds = waits.get(action)
        if seconds is None:
            seconds = self.properties.get("wait_secs") or 0
        if seconds:
            await asyncio.sleep(float(seconds))

    async def create(self) -> None:
        self.physical_id = self.physical_name()
        await self._wait("create")
        if self.properties.get("fail"):
            raise ResourceFailure("Test Resource failed " + self.name)

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if new.get("update_replace") or new.get("update_replace_value") != old.get(
            "update_replace_value"
        ):
            from onestack.orchestration.exceptions import UpdateReplace

            raise UpdateReplace("update_replace")
        self.properties = new
        await self._wait("update")
        if new.get("fail"):
            raise ResourceFailure("Test Resource failed " + self.name)

    async def delete(self) -> None:
        await self._wait("delete")

    async def refresh(self) -> None:
        self.attrs["output"] = self.properties.get("value")
        self.attrs["value"] = self.properties.get("value")


def _check(value: Any) -> None:
    if value is None:
        raise StackValidationFailed("missing value")
