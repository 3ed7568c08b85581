"""Flavors, key pairs, server groups, quotas, limits, zones, services,
hypervisors and usage through openstacksdk (fake driver)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.functional.compute.conftest import raw, unique
from tests.support.server import RunningCloud

PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFyB3lYOhGoAx2FyTEWDuoBZ9vM2FXg9FTLFVkm8fDO test@onestack"
)


def test_default_flavors_and_details(demo: Any) -> None:
    flavors = {f.name: f for f in demo.compute.flavors()}
    assert {"m1.tiny", "m1.small", "m1.nano"} <= set(flavors)
    tiny = demo.compute.get_flavor(flavors["m1.tiny"].id)
    assert (tiny.vcpus, tiny.ram, tiny.disk) == (1, 512, 1)
    assert tiny.is_public is True


def test_flavor_create_extra_specs_and_delete(admin: Any, demo: Any) -> None:
    name = unique("flv")
    flavor = admin.compute.create_flavor(name=name, ram=256, vcpus=2, disk=3, description="d")
    try:
        assert flavor.description == "d"
        admin.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "shared"})
        assert admin.compute.fetch_flavor_extra_specs(flavor).extra_specs == {
            "hw:cpu_policy": "shared"
        }
        dup = raw(
            admin,
            "post",
            "/flavors",
            json={"flavor": {"name": name, "ram": 1, "vcpus": 1, "disk": 0}},
        )
        assert dup.status_code == 409
        assert "already exists" in dup.json()["conflictingRequest"]["message"]
        denied = raw(
            demo,
            "post",
            "/flavors",
            json={"flavor": {"name": unique("x"), "ram": 1, "vcpus": 1, "disk": 0}},
        )
        assert denied.status_code == 403
        assert "forbidden" in denied.json()
    finally:
        admin.compute.delete_flavor(flavor)
    missing = raw(admin, "get", f"/flavors/{flavor.id}")
    assert missing.status_code == 404
    assert "itemNotFound" in missing.json()


def test_private_flavor_needs_access(admin: Any, demo: Any) -> None:
    flavor = admin.compute.create_flavor(
        name=unique("priv"), ram=64, vcpus=1, disk=0, is_public=False
    )
    try:
        assert flavor.id not in [f.id for f in demo.compute.flavors()]
        assert raw(demo, "get", f"/flavors/{flavor.id}").status_code == 404
        admin.compute.flavor_add_tenant_access(flavor, demo.current_project_id)
        assert flavor.id in [f.id for f in demo.compute.flavors()]
        access = admin.compute.get_flavor_access(flavor)
        assert [a["tenant_id"] for a in access] == [demo.current_project_id]
    finally:
        admin.compute.delete_flavor(flavor)


def test_keypairs_import_generate_and_isolation(admin: Any, demo: Any) -> None:
    name = unique("kp")
    imported = demo.compute.create_keypair(name=name, public_key=PUBLIC_KEY)
    try:
        assert imported.fingerprint.count(":") == 15
        assert name in [k.name for k in demo.compute.keypairs()]
        assert name not in [k.name for k in admin.compute.keypairs()]
        dup = raw(
            demo,
            "post",
            "/os-keypairs",
            "2.10",
            json={"keypair": {"name": name, "public_key": PUBLIC_KEY}},
        )
        assert dup.status_code == 409
        bad = raw(
            demo,
            "post",
            "/os-keypairs",
            "2.10",
            json={"keypair": {"name": unique("kp"), "public_key": "ssh-rsa nonsense"}},
        )
        assert bad.status_code == 400
        generated = raw(demo, "post", "/os-keypairs", "2.2", json={"keypair": {"name": name + "g"}})
        assert generated.status_code == 201
        assert "PRIVATE KEY" in generated.json()["keypair"]["private_key"]
        raw(demo, "delete", f"/os-keypairs/{name}g", "2.2")
    finally:
        demo.compute.delete_keypair(name)
    assert raw(demo, "get", f"/os-keypairs/{name}").status_code == 404


def test_keypair_lands_in_config_drive_metadata(demo: Any, make_server: Any) -> None:
    name = unique("kp")
    demo.compute.create_keypair(name=name, public_key=PUBLIC_KEY)
    try:
        server = make_server(demo, key_name=name)
        assert server.key_name == name
    finally:
        demo.compute.delete_keypair(name)


def test_quota_sets_and_limits(admin: Any, demo: Any) -> None:
    project = demo.current_project_id
    defaults = admin.compute.get_quota_set_defaults(project)
    assert defaults.instances == 10
    admin.compute.update_quota_set(project, cores=7)
    try:
        assert demo.compute.get_quota_set(project).cores == 7
        detail = raw(demo, "get", f"/os-quota-sets/{project}/detail", "2.57").json()["quota_set"]
        assert detail["cores"]["limit"] == 7
        assert "injected_files" not in detail
        limits = demo.compute.get_limits().absolute
        assert limits.total_cores == 7
        denied = raw(demo, "put", f"/os-quota-sets/{project}", json={"quota_set": {"cores": 99}})
        assert denied.status_code == 403
    finally:
        raw(admin, "delete", f"/os-quota-sets/{project}")
    assert demo.compute.get_quota_set(project).cores == 20


def test_zones_services_hypervisors_and_usage(admin: Any, make_server: Any) -> None:
    make_server(admin)
    zones = list(admin.compute.availability_zones())
    assert [z.name for z in zones] == ["nova"]
    binaries = {s.binary for s in admin.compute.services()}
    assert {"nova-compute", "nova-conductor", "nova-scheduler"} <= binaries
    hypervisors = list(admin.compute.hypervisors(details=True))
    assert hypervisors[0].hypervisor_type == "fake"
    detail = raw(admin, "get", f"/os-hypervisors/{hypervisors[0].id}", "2.53").json()
    assert detail["hypervisor"]["running_vms"] >= 1
    assert detail["hypervisor"]["vcpus"] == 1000
    usage = raw(admin, "get", "/os-simple-tenant-usage?detailed=1").json()["tenant_usages"]
    assert any(u["server_usages"] for u in usage)
    # an empty project id is Nova's 404, not the list behind a redirect
    assert raw(admin, "get", "/os-simple-tenant-usage/").status_code == 404


def test_admin_only_apis_refuse_members(demo: Any) -> None:
    for path in ("/os-services", "/os-hypervisors", "/os-simple-tenant-usage"):
        resp = raw(demo, "get", path)
        assert resp.status_code == 403, path
        assert "forbidden" in resp.json()


def test_server_group_policies(admin: Any) -> None:
    old = raw(
        admin,
        "post",
        "/os-server-groups",
        "2.1",
        json={"server_group": {"name": unique("g"), "policies": ["affinity"]}},
    )
    assert old.status_code == 200
    assert old.json()["server_group"]["policies"] == ["affinity"]
    new = admin.compute.create_server_group(
        name=unique("g"), policy="anti-affinity", rules={"max_server_per_host": 2}
    )
    assert new.rules == {"max_server_per_host": 2}
    bad = raw(
        admin,
        "post",
        "/os-server-groups",
        "2.64",
        json={"server_group": {"name": "x", "policy": "nonsense"}},
    )
    assert bad.status_code == 400
    admin.compute.delete_server_group(new)
    admin.compute.delete_server_group(old.json()["server_group"]["id"])


def _cli(cloud: RunningCloud, *args: str) -> str:
    env = {
        "OS_CLOUD": "onestack",
        "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml),
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
    }
    proc = subprocess.run(
        ["openstack", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cli_server_create_wait_and_console_log(cloud: RunningCloud) -> None:
    name = unique("cli")
    out = _cli(
        cloud,
        "server",
        "create",
        "--image",
        "onestack-busybox",
        "--flavor",
        "m1.nano",
        "--nic",
        "none",
        "--wait",
        "-f",
        "value",
        "-c",
        "status",
        name,
    )
    assert out.strip() == "ACTIVE"
    assert "booted" in _cli(cloud, "console", "log", "show", name)
    _cli(cloud, "server", "delete", "--wait", name)


def test_quota_sets_leave_out_the_network_quota(admin: Any) -> None:
    project = admin.current_project_id
    for path in (f"/os-quota-sets/{project}", f"/os-quota-sets/{project}/defaults"):
        body = raw(admin, "get", path, "2.1").json()["quota_set"]
        assert "networks" not in body
        assert {"floating_ips", "fixed_ips", "security_groups"} <= set(body)


def test_generated_x509_keypair_is_a_certificate(demo: Any) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    name = unique("x509")
    created = raw(
        demo, "post", "/os-keypairs", "2.2", json={"keypair": {"name": name, "type": "x509"}}
    )
    try:
        assert created.status_code == 201, created.text
        body = created.json()["keypair"]
        assert body["type"] == "x509" and body["private_key"]
        cert = x509.load_pem_x509_certificate(body["public_key"].encode())
        assert body["fingerprint"].replace(":", "") == cert.fingerprint(hashes.SHA1()).hex()
    finally:
        raw(demo, "delete", f"/os-keypairs/{name}", "2.2")
