"""User stories with `openstack stack ...` (python-heatclient through the CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functional.orchestration import templates
from tests.functional.orchestration.helpers import openstack, wait
from tests.support.names import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    items = shown["outputs"]
    if isinstance(items, str):
        items = json.loads(items)
    return {o["output_key"]: o["output_value"] for o in items}


def test_full_stack_create_resize_replace_and_delete(
    cloud: RunningCloud, demo: Any, tmp_path: Path
) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(templates.FULL_STACK)
    name = unique("full")
    created = openstack(cloud, "stack", "create", "-t", str(template), "--wait", name, "-f", "json")
    assert created["stack_status"] == "CREATE_COMPLETE", created
    shown = openstack(cloud, "stack", "show", name, "-f", "json")
    values = outputs(shown)
    server = demo.compute.get_server(values["server_id"])
    assert server.status == "ACTIVE" and server.flavor["original_name"] == "m1.nano"
    network_name = next(iter(values["addresses"]))
    assert values["fixed_ip"] in values["networks"][network_name]
    assert values["floating_ip"].startswith("172.24.4.")
    volume = demo.block_storage.get_volume(values["volume_id"])
    assert volume.status == "in-use" and volume.attachments[0]["server_id"] == server.id
    listed = openstack(cloud, "stack", "resource", "list", name, "-f", "json")
    assert {r["resource_status"] for r in listed} == {"CREATE_COMPLETE"}
    assert len(listed) == 10

    # a parameter update resizes the server in place
    openstack(
        cloud,
        "stack",
        "update",
        "-t",
        str(template),
        "--parameter",
        "flavor=m1.micro",
        "--wait",
        name,
    )
    resized = demo.compute.get_server(server.id)
    assert resized.flavor["original_name"] == "m1.micro"
    assert outputs(openstack(cloud, "stack", "show", name, "-f", "json"))["server_id"] == server.id

    # a user_data change replaces it: a new server, the old one gone, the volume moved along
    openstack(
        cloud,
        "stack",
        "update",
        "--existing",
        "--parameter",
        "user_data=#!/bin/sh\necho replaced",
        "--wait",
        name,
    )
    after = outputs(openstack(cloud, "stack", "show", name, "-f", "json"))
    assert after["server_id"] != server.id
    assert demo.compute.find_server(server.id) is None
    volume = demo.block_storage.get_volume(values["volume_id"])
    assert volume.attachments[0]["server_id"] == after["server_id"]
    port_id = next(r["physical_resource_id"] for r in listed if r["resource_name"] == "port")
    assert demo.network.get_port(port_id).device_id == after["server_id"]

    openstack(cloud, "stack", "delete", "--yes", "--wait", name)
    assert demo.compute.find_server(after["server_id"]) is None
    assert demo.block_storage.find_volume(values["volume_id"]) is None
    for resource in listed:
        kind, physical = resource["resource_type"], resource["physical_resource_id"]
        if kind == "OS::Neutron::Net":
            assert demo.network.find_network(physical) is None
        elif kind == "OS::Neutron::Router":
            assert demo.network.find_router(physical) is None
        elif kind == "OS::Neutron::Port":
            assert demo.network.find_port(physical) is None
        elif kind == "OS::Neutron::SecurityGroup":
            assert demo.network.find_security_group(physical) is None
        elif kind == "OS::Neutron::FloatingIP":
            assert demo.network.find_ip(physical) is None
    gone = openstack(cloud, "stack", "show", name, check=False)
    assert gone.returncode != 0


def test_resource_group_of_three_servers(cloud: RunningCloud, demo: Any, tmp_path: Path) -> None:
    template = tmp_path / "group.yaml"
    template.write_text(templates.GROUP)
    name = unique("group")
    openstack(cloud, "stack", "create", "-t", str(template), "--wait", name)
    values = outputs(openstack(cloud, "stack", "show", name, "-f", "json"))
    assert len(values["refs"]) == 3 and values["names"] == ["member-0", "member-1", "member-2"]
    assert values["first"] == "member-0"
    for ref in values["refs"]:
        assert demo.compute.get_server(ref).status == "ACTIVE"
    nested = openstack(cloud, "stack", "resource", "list", "-n", "1", name, "-f", "json")
    assert sorted(
        r["resource_name"] for r in nested if r["resource_type"] == "OS::Nova::Server"
    ) == [
        "0",
        "1",
        "2",
    ]
    openstack(cloud, "stack", "update", "--existing", "--parameter", "count=2", "--wait", name)
    shrunk = outputs(openstack(cloud, "stack", "show", name, "-f", "json"))
    assert shrunk["refs"] == values["refs"][:2]
    assert demo.compute.find_server(values["refs"][2]) is None
    openstack(cloud, "stack", "delete", "--yes", "--wait", name)
    for ref in values["refs"]:
        assert demo.compute.find_server(ref) is None


def test_template_resource_from_files_and_environment(
    cloud: RunningCloud, demo: Any, tmp_path: Path
) -> None:
    (tmp_path / "child.yaml").write_text(templates.CHILD)
    (tmp_path / "parent.yaml").write_text(templates.PARENT)
    (tmp_path / "env.yaml").write_text(templates.ENVIRONMENT)
    name = unique("nested")
    openstack(
        cloud,
        "stack",
        "create",
        "-t",
        str(tmp_path / "parent.yaml"),
        "-e",
        str(tmp_path / "env.yaml"),
        "--wait",
        name,
        cwd=tmp_path,
    )
    values = outputs(openstack(cloud, "stack", "show", name, "-f", "json"))
    # parameter_defaults (9) beat the template's default (6); the registry maps My::Random
    assert len(values["nested_value"]) == 9
    assert len(values["mapped_value"]) == 32
    assert demo.block_storage.get_volume(values["nested_volume"]).name == "child-vol"
    env = openstack(cloud, "stack", "environment", "show", name, "-f", "json")
    assert env["resource_registry"]["My::Random"] == "OS::Heat::RandomString"
    files = openstack(cloud, "stack", "file", "list", name, "-f", "json")
    assert any(key.endswith("child.yaml") for key in files["files"])
    openstack(cloud, "stack", "delete", "--yes", "--wait", name)
    assert demo.block_storage.find_volume(values["nested_volume"]) is None


def test_failing_resource_with_rollback_leaves_nothing(
    cloud: RunningCloud, demo: Any, tmp_path: Path
) -> None:
    template = tmp_path / "fail.yaml"
    template.write_text(
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  net: {type: OS::Neutron::Net}\n"
        "  volume: {type: OS::Cinder::Volume, properties: {size: 1}}\n"
        "  broken:\n"
        "    type: OS::Heat::TestResource\n"
        "    depends_on: [net, volume]\n"
        "    properties: {fail: true}\n"
    )
    name = unique("rollback")
    before_nets = {n.id for n in demo.network.networks()}
    before_volumes = {v.id for v in demo.block_storage.volumes()}
    result = openstack(
        cloud,
        "stack",
        "create",
        "-t",
        str(template),
        "--enable-rollback",
        "--wait",
        name,
        check=False,
    )
    assert result.returncode != 0
    shown = openstack(cloud, "stack", "show", name, "-f", "json")
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown
    assert "Test Resource failed broken" in openstack(cloud, "stack", "event", "list", name).stdout
    assert {n.id for n in demo.network.networks()} == before_nets
    assert {v.id for v in demo.block_storage.volumes()} == before_volumes
    assert openstack(cloud, "stack", "resource", "list", name, "-f", "json") == []
    openstack(cloud, "stack", "delete", "--yes", "--wait", name)


def test_the_other_stack_commands(cloud: RunningCloud, demo: Any, tmp_path: Path) -> None:
    template = tmp_path / "small.yaml"
    template.write_text(
        "heat_template_version: 2018-08-31\n"
        "description: small\n"
        "parameters: {word: {type: string, default: hi}}\n"
        "resources:\n"
        "  rand: {type: OS::Heat::RandomString, properties: {length: 6}}\n"
        "outputs:\n"
        "  out: {value: {get_attr: [rand, value]}, description: the value}\n"
    )
    name = unique("cmds")
    checked = openstack(
        cloud, "orchestration", "template", "validate", "-t", str(template), "-f", "json"
    )
    assert checked["Description"] == "small" and "word" in checked["Parameters"]
    openstack(cloud, "stack", "create", "-t", str(template), "--wait", "--tag", "x", name)
    listed = openstack(cloud, "stack", "list", "--tags", "x", "-f", "json")
    assert name in [s["Stack Name"] for s in listed]
    output = openstack(cloud, "stack", "output", "show", name, "out", "-f", "json")
    assert len(output["output_value"]) == 6
    keys = openstack(cloud, "stack", "output", "list", name, "-f", "json")
    assert keys == [{"output_key": "out", "description": "the value"}]
    shown = openstack(cloud, "stack", "resource", "show", name, "rand", "-f", "json")
    assert shown["resource_type"] == "OS::Heat::RandomString"
    events = openstack(cloud, "stack", "event", "list", name, "-f", "json")
    assert events[-1]["resource_status"] == "CREATE_COMPLETE"
    assert "resources" in openstack(cloud, "stack", "template", "show", name, "-f", "json")
    stack_id = next(s["ID"] for s in listed if s["Stack Name"] == name)
    for action, status in (
        ("check", "CHECK_COMPLETE"),
        ("suspend", "SUSPEND_COMPLETE"),
        ("resume", "RESUME_COMPLETE"),
    ):
        openstack(cloud, "stack", action, name)
        assert wait(demo, name, stack_id)["stack_status"] == status
    snap = openstack(cloud, "stack", "snapshot", "create", name, "--name", "s", "-f", "json")
    assert snap["status"] == "COMPLETE"
    assert len(openstack(cloud, "stack", "snapshot", "list", name, "-f", "json")) == 1
    types = openstack(cloud, "orchestration", "resource", "type", "list", "-f", "json")
    assert "OS::Nova::Server" in [t["Resource Type"] for t in types]
    versions = openstack(cloud, "orchestration", "template", "version", "list", "-f", "json")
    assert "heat_template_version.2021-04-16" in [v["Version"] for v in versions]
    config = openstack(
        cloud, "software", "config", "create", "--group", "script", unique("cfg"), "-f", "json"
    )
    assert config["group"] == "script"
    openstack(cloud, "software", "config", "delete", config["id"])
    exported = openstack(cloud, "stack", "export", name, "-f", "json")
    assert exported["name"] == name
    openstack(cloud, "stack", "delete", "--yes", "--wait", name)
