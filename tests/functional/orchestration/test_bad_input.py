"""Bad input: each a 400 with Heat's body naming the problem, and nothing created."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.orchestration.helpers import api, heat_error
from tests.support.names import unique

GOOD = {
    "heat_template_version": "2018-08-31",
    "parameters": {"size": {"type": "number", "default": 1}},
    "resources": {
        "vol": {"type": "OS::Cinder::Volume", "properties": {"size": {"get_param": "size"}}}
    },
}


def assert_nothing_created(demo: Any, name: str, volumes_before: set[str]) -> None:
    listed = api(demo, "get", "/stacks", params={"name": name}).json()["stacks"]
    assert listed == []
    assert {v.id for v in demo.block_storage.volumes()} == volumes_before


CASES = [
    (
        "malformed YAML",
        "heat_template_version: 2018-08-31\nresources: [unclosed\n",
        {},
        "HTTPBadRequest",
        "Error parsing template",
    ),
    (
        "unknown version",
        {**GOOD, "heat_template_version": "2012-12-12"},
        {},
        "InvalidTemplateVersion",
        "2012-12-12",
    ),
    (
        "unknown function",
        {
            **GOOD,
            "resources": {
                "vol": {"type": "OS::Cinder::Volume", "properties": {"size": {"get_parm": "size"}}}
            },
        },
        {},
        "StackValidationFailed",
        "get_parm",
    ),
    (
        "function of a later version",
        {
            **GOOD,
            "heat_template_version": "2013-05-23",
            "resources": {
                "vol": {
                    "type": "OS::Cinder::Volume",
                    "properties": {"size": {"str_split": [",", "1"]}},
                }
            },
        },
        {},
        "InvalidTemplateVersion",
        "str_split",
    ),
    (
        "missing parameter",
        {**GOOD, "parameters": {"size": {"type": "number"}}},
        {},
        "UserParameterMissing",
        "size",
    ),
    (
        "range constraint",
        {
            **GOOD,
            "parameters": {
                "size": {"type": "number", "constraints": [{"range": {"min": 1, "max": 2}}]}
            },
        },
        {"size": 5},
        "StackValidationFailed",
        "out of range",
    ),
    (
        "allowed_values constraint",
        {
            **GOOD,
            "parameters": {
                "size": {
                    "type": "number",
                    "constraints": [{"allowed_values": [1, 2], "description": "one or two"}],
                }
            },
        },
        {"size": 3},
        "StackValidationFailed",
        "one or two",
    ),
    (
        "custom constraint",
        {
            **GOOD,
            "parameters": {
                "size": {"type": "number", "default": 1},
                "flavor": {"type": "string", "constraints": [{"custom_constraint": "nova.flavor"}]},
            },
        },
        {"flavor": "no-such-flavor"},
        "StackValidationFailed",
        "nova.flavor",
    ),
    (
        "circular dependencies",
        {
            **GOOD,
            "resources": {
                "a": {
                    "type": "OS::Heat::Value",
                    "properties": {"value": {"get_attr": ["b", "value"]}},
                },
                "b": {
                    "type": "OS::Heat::Value",
                    "properties": {"value": {"get_attr": ["a", "value"]}},
                },
            },
        },
        {},
        "CircularDependencyException",
        "Circular Dependency Found",
    ),
    (
        "unknown resource type",
        {**GOOD, "resources": {"x": {"type": "OS::Nova::NoSuchThing"}}},
        {},
        "StackValidationFailed",
        "OS::Nova::NoSuchThing",
    ),
    (
        "unknown property",
        {
            **GOOD,
            "resources": {
                "vol": {"type": "OS::Cinder::Volume", "properties": {"size": 1, "colour": "red"}}
            },
        },
        {},
        "StackValidationFailed",
        "Unknown Property colour",
    ),
    (
        "reference to a missing resource",
        {
            **GOOD,
            "resources": {
                "v": {"type": "OS::Heat::Value", "properties": {"value": {"get_resource": "nope"}}}
            },
        },
        {},
        "InvalidTemplateReference",
        "nope",
    ),
    ("undeclared parameter given", GOOD, {"colour": "red"}, "UnknownUserParameter", "colour"),
]


@pytest.mark.parametrize(
    ("case", "template", "params", "error_type", "word"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_400_and_creates_nothing(
    demo: Any, case: str, template: Any, params: dict[str, Any], error_type: str, word: str
) -> None:
    volumes = {v.id for v in demo.block_storage.volumes()}
    name = unique("bad")
    answer = api(
        demo,
        "post",
        "/stacks",
        json={"stack_name": name, "template": template, "parameters": params},
    )
    heat_error(answer, 400, error_type, word)
    assert_nothing_created(demo, name, volumes)
    # validate answers the same
    if case not in (
        "missing parameter",
        "range constraint",
        "allowed_values constraint",
        "custom constraint",
        "undeclared parameter given",
    ):
        checked = api(demo, "post", "/validate", json={"template": template})
        heat_error(checked, 400, error_type, word)


def test_bad_stack_names_and_bodies(demo: Any) -> None:
    heat_error(
        api(demo, "post", "/stacks", json={"stack_name": "1bad", "template": GOOD}),
        400,
        "HTTPBadRequest",
        "Invalid stack name",
    )
    heat_error(
        api(demo, "post", "/stacks", json={"stack_name": unique("n")}),
        400,
        "HTTPBadRequest",
        "No template",
    )
    heat_error(
        api(
            demo,
            "post",
            "/stacks",
            json={"stack_name": unique("n"), "template": GOOD, "timeout_mins": -1},
        ),
        400,
        "HTTPBadRequest",
        "timeout",
    )


def test_stack_name_taken_is_409(demo: Any) -> None:
    name = unique("dup")
    template = {"heat_template_version": "2018-08-31", "resources": {}}
    first = api(demo, "post", "/stacks", json={"stack_name": name, "template": template})
    assert first.status_code == 201
    heat_error(
        api(demo, "post", "/stacks", json={"stack_name": name, "template": template}),
        409,
        "StackExists",
        name,
    )
    stack_id = first.json()["stack"]["id"]
    assert api(demo, "delete", f"/stacks/{name}/{stack_id}").status_code == 204
