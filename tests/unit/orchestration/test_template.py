"""The template engine on its own: functions per HOT version, conditions, parameters,
environments and the dependency graph (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from onestack.orchestration.engine.definition import StackDefinition
from onestack.orchestration.exceptions import (
    CircularDependencyException,
    InvalidTemplateVersion,
    StackValidationFailed,
    UserParameterMissing,
)
from onestack.orchestration.template import functions as fn
from onestack.orchestration.template.environment import Environment
from onestack.orchestration.template.format import parse_template


def define(
    template: dict[str, Any],
    params: dict[str, Any] | None = None,
    env: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
) -> StackDefinition:
    return StackDefinition(
        template,
        Environment(env or {}),
        files or {},
        params or {},
        stack_name="s",
        stack_id="sid",
        project_id="pid",
    )


def value(version: str, snippet: Any, params: dict[str, Any] | None = None, **extra: Any) -> Any:
    template = {
        "heat_template_version": version,
        "parameters": {
            k: {"type": "json" if isinstance(v, dict | list) else "string"}
            for k, v in (params or {}).items()
        },
        "resources": {},
        "outputs": {"out": {"value": snippet}},
        **extra,
    }
    definition = define(template, params)
    definition.validate()
    return definition.resolved_outputs()["out"]


def test_string_functions() -> None:
    assert value("2016-10-14", {"list_join": [",", ["a", "b"], ["c"]]}) == "a,b,c"
    assert value("2016-10-14", {"str_split": [",", "a,b,c", 1]}) == "b"
    replaced = {"str_replace": {"template": "$a-$ab", "params": {"$a": "1", "$ab": "2"}}}
    assert value("2016-10-14", replaced) == "1-2"
    with pytest.raises(ValueError, match="not found in the template"):
        value("2017-02-24", {"str_replace_strict": {"template": "x", "params": {"y": "1"}}})
    with pytest.raises(ValueError, match="empty value"):
        value("2017-09-01", {"str_replace_vstrict": {"template": "x", "params": {"x": ""}}})
    assert value("2015-04-30", {"digest": ["sha256", "abc"]}).startswith("ba7816bf")


def test_list_and_map_functions() -> None:
    assert value("2016-04-08", {"map_merge": [{"a": 1}, {"b": 2}]}) == {"a": 1, "b": 2}
    assert value(
        "2016-10-14", {"map_replace": [{"a": "x"}, {"keys": {"a": "b"}, "values": {"x": "y"}}]}
    ) == {"b": "y"}
    assert value("2017-09-01", {"list_concat_unique": [[1, 2], [2, 3]]}) == [1, 2, 3]
    assert value("2017-09-01", {"list_concat": [[1, 2], [2, 3]]}) == [1, 2, 2, 3]
    assert value("2017-09-01", {"contains": ["a", ["a", "b"]]}) is True
    assert value("2017-02-24", {"filter": [[None], [1, None, 2]]}) == [1, 2]
    repeated = {"repeat": {"for_each": {"%p%": ["80", "443"]}, "template": {"port": "%p%"}}}
    assert value("2015-04-30", repeated) == [{"port": "80"}, {"port": "443"}]
    url = {
        "make_url": {"scheme": "http", "host": "h", "port": 80, "path": "/p", "query": {"a": "b"}}
    }
    assert value("2017-09-01", url) == "http://h:80/p?a=b"
    assert (
        value("2016-10-14", {"yaql": {"expression": "$.data.x.len()", "data": {"x": [1, 2]}}}) == 2
    )


def test_get_param_paths_and_pseudo_parameters() -> None:
    params = {"cfg": {"a": [10, 20]}}
    assert value("2018-08-31", {"get_param": ["cfg", "a", 1]}, params) == 20
    assert value("2018-08-31", {"get_param": "OS::stack_name"}) == "s"
    assert value("2018-08-31", {"get_param": "OS::project_id"}) == "pid"


def test_functions_belong_to_their_versions() -> None:
    with pytest.raises(InvalidTemplateVersion, match="str_split"):
        value("2015-04-30", {"str_split": [",", "a"]})
    with pytest.raises(InvalidTemplateVersion, match="Fn::Join"):
        value("2016-10-14", {"Fn::Join": [",", ["a"]]})
    # 2013-05-23 keeps the CFN functions most published templates use
    assert value("2013-05-23", {"Fn::Join": ["-", ["a", "b"]]}) == "a-b"
    assert value("2013-05-23", {"Fn::Select": [1, ["a", "b"]]}) == "b"
    assert value("2013-05-23", {"Fn::Split": [",", "a,b"]}) == ["a", "b"]
    assert value("2013-05-23", {"Fn::Replace": [{"X": "y"}, "aXa"]}) == "aya"
    assert value("2013-05-23", {"Fn::GetAZs": ""}) == ["nova"]
    assert value("2013-05-23", {"Ref": "OS::stack_id"}) == "sid"
    with pytest.raises(InvalidTemplateVersion, match="2012-12-12"):
        value("2012-12-12", "x")
    assert value("wallaby", {"if": [True, "yes"]}) == "yes"


def test_conditions() -> None:
    template = {
        "heat_template_version": "2016-10-14",
        "parameters": {"env": {"type": "string", "default": "prod"}},
        "conditions": {
            "is_prod": {"equals": [{"get_param": "env"}, "prod"]},
            "not_prod": {"not": "is_prod"},
            "both": {"and": ["is_prod", {"not": "not_prod"}]},
        },
        "resources": {
            "only_prod": {"type": "OS::Heat::None", "condition": "is_prod"},
            "only_dev": {"type": "OS::Heat::None", "condition": "not_prod"},
        },
        "outputs": {"choice": {"value": {"if": ["both", "p", "d"]}}},
    }
    prod = define(template)
    assert set(prod.resources) == {"only_prod"}
    assert prod.resolved_outputs()["choice"] == "p"
    dev = define(template, {"env": "dev"})
    assert set(dev.resources) == {"only_dev"}
    assert dev.resolved_outputs()["choice"] == "d"


def test_parameters_constraints_and_defaults() -> None:
    template = {
        "heat_template_version": "2017-02-24",
        "parameters": {
            "n": {"type": "number", "constraints": [{"modulo": {"step": 2, "offset": 0}}]},
            "names": {"type": "comma_delimited_list", "default": "a,b"},
            "flag": {"type": "boolean", "default": "yes"},
            "word": {"type": "string", "constraints": [{"allowed_pattern": "[a-z]+"}]},
        },
        "resources": {},
    }
    ok = define(template, {"n": "4", "word": "abc"})
    ok.validate()
    assert ok.params["n"] == 4 and ok.params["names"] == ["a", "b"] and ok.params["flag"] is True
    with pytest.raises(StackValidationFailed, match="multiple of 2"):
        define(template, {"n": 3, "word": "abc"}).validate()
    with pytest.raises(StackValidationFailed, match="does not match pattern"):
        define(template, {"n": 2, "word": "ABC"}).validate()
    with pytest.raises(UserParameterMissing):
        define(template, {"word": "abc"}).validate()
    # parameter_defaults from the environment replace the template's defaults
    env = define(template, {"n": 2, "word": "x"}, env={"parameter_defaults": {"names": "c"}})
    assert env.params["names"] == ["c"]


def test_environment_registry_and_template_resources() -> None:
    child = "heat_template_version: 2016-10-14\nparameters: {p: {type: string}}\nresources: {}\n"
    template = {
        "heat_template_version": "2016-10-14",
        "resources": {
            "a": {"type": "My::Thing", "properties": {"p": "x"}},
            "b": {"type": "OS::Nova::Server"},
        },
    }
    env = {
        "resource_registry": {
            "My::Thing": "child.yaml",
            "resources": {"b": {"OS::Nova::Server": "OS::Heat::None"}},
        }
    }
    definition = define(template, env=env, files={"child.yaml": child})
    definition.validate()
    assert definition.resources["a"].nested_template == child
    assert definition.resources["b"].plugin.type_name == "OS::Heat::None"
    with pytest.raises(StackValidationFailed, match="Unknown Property q"):
        define(
            {**template, "resources": {"a": {"type": "My::Thing", "properties": {"q": 1}}}},
            env=env,
            files={"child.yaml": child},
        ).validate()


def test_dependency_graph_and_hidden_edges() -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {
                "type": "OS::Neutron::Subnet",
                "properties": {"network": {"get_resource": "net"}, "cidr": "10.0.0.0/24"},
            },
            "port": {
                "type": "OS::Neutron::Port",
                "properties": {"network": {"get_resource": "net"}},
            },
            "fip": {
                "type": "OS::Neutron::FloatingIP",
                "properties": {"floating_network": "public"},
            },
            "router": {"type": "OS::Neutron::Router"},
            "iface": {
                "type": "OS::Neutron::RouterInterface",
                "properties": {
                    "router": {"get_resource": "router"},
                    "subnet": {"get_resource": "subnet"},
                },
            },
        },
    }
    graph = define(template).graph()
    assert graph.requires["port"] == {"net", "subnet"}  # a port waits for its network's subnets
    assert {"iface", "router"} <= graph.requires["fip"]  # a floating IP waits for the router
    order = graph.order()
    assert order.index("subnet") < order.index("port")
    cyclic = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "a": {"type": "OS::Heat::None", "depends_on": ["b"]},
            "b": {"type": "OS::Heat::None", "depends_on": ["a"]},
        },
    }
    with pytest.raises(CircularDependencyException, match="a, b, a"):
        define(cyclic).graph()


def test_yaml_dates_stay_strings_and_errors_are_heats() -> None:
    doc = parse_template("heat_template_version: 2018-08-31\nresources: {}\n", 1000)
    assert doc["heat_template_version"] == "2018-08-31"
    from onestack.orchestration.exceptions import HTTPBadRequest

    with pytest.raises(HTTPBadRequest, match="Error parsing template"):
        parse_template("heat_template_version: [\n", 1000)
    with pytest.raises(HTTPBadRequest, match="exceeds maximum"):
        parse_template("x" * 2000, 1000)


def test_resolve_leaves_plain_data_alone() -> None:
    assert fn.resolve({"a": [1, {"b": "c"}]}) == {"a": [1, {"b": "c"}]}
