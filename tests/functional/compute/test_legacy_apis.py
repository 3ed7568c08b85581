"""Older compute APIs Tempest exercises at microversion 2.1: os-hosts (until 2.42),
hypervisor search (until 2.52), extensions, os-quota-class-sets,
os-instance_usage_audit_log, and migrations behind Nova's ``manager`` rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.functional.compute.conftest import raw, unique
from tests.functional.compute.test_proxies import nova_error
from tests.support.server import RunningCloud


def test_os_hosts(admin: Any, demo: Any) -> None:
    hosts = raw(admin, "get", "/os-hosts").json()["hosts"]
    assert all(set(h) == {"host_name", "service", "zone"} for h in hosts)
    compute = [h for h in hosts if h["service"] == "compute"]
    assert compute and {"conductor", "scheduler"} <= {h["service"] for h in hosts}
    zone = compute[0]["zone"]
    in_zone = raw(admin, "get", f"/os-hosts?zone={zone}").json()["hosts"]
    assert {h["service"] for h in in_zone} == {"compute"}
    assert raw(admin, "get", "/os-hosts?zone=nowhere").json()["hosts"] == []
    assert raw(admin, "get", "/os-hosts?zone=").json()["hosts"] == hosts  # a blank zone: all
    name = compute[0]["host_name"]
    detail = raw(admin, "get", f"/os-hosts/{name}").json()["host"]
    projects = [d["resource"]["project"] for d in detail]
    assert projects[:3] == ["(total)", "(used_now)", "(used_max)"]
    assert set(detail[0]["resource"]) == {"host", "project", "cpu", "memory_mb", "disk_gb"}
    assert detail[0]["resource"]["cpu"] > 0
    nova_error(raw(admin, "get", "/os-hosts/no-such-host"), 404, "itemNotFound")
    nova_error(raw(demo, "get", "/os-hosts"), 403, "forbidden")
    nova_error(raw(admin, "put", f"/os-hosts/{name}", json={"status": "bogus"}), 400, "badRequest")
    nothing = {"status": None, "maintenance_mode": None}  # what Tempest's client sends
    nova_error(raw(admin, "put", f"/os-hosts/{name}", json=nothing), 400, "badRequest")
    nova_error(
        raw(admin, "put", "/os-hosts/no-such-host", json={"status": "enable"}), 404, "itemNotFound"
    )
    updated = raw(admin, "put", f"/os-hosts/{name}", json={"status": "disable"}).json()
    try:
        assert updated == {"host": name, "status": "disabled"}
        services = admin.compute.services(host=name, binary="nova-compute")
        assert [s.status for s in services] == ["disabled"]
    finally:
        assert raw(admin, "put", f"/os-hosts/{name}", json={"status": "enable"}).json() == {
            "host": name,
            "status": "enabled",
        }
    maintenance = raw(admin, "put", f"/os-hosts/{name}", json={"maintenance_mode": "enable"})
    nova_error(maintenance, 501, "notImplemented")
    nova_error(raw(admin, "get", f"/os-hosts/{name}/reboot"), 501, "notImplemented")
    nova_error(raw(admin, "get", "/os-hosts/no-such-host/startup"), 404, "itemNotFound")
    nova_error(raw(demo, "get", f"/os-hosts/{name}/shutdown"), 403, "forbidden")
    nova_error(raw(admin, "get", "/os-hosts", "2.43"), 404, "itemNotFound")


def test_hypervisor_search_until_2_53(admin: Any) -> None:
    listed = raw(admin, "get", "/os-hypervisors").json()["hypervisors"]
    name = listed[0]["hypervisor_hostname"]
    found = raw(admin, "get", f"/os-hypervisors/{name[:3]}/search").json()["hypervisors"]
    assert name in {h["hypervisor_hostname"] for h in found}
    assert set(found[0]) == {"id", "hypervisor_hostname", "state", "status"}
    servers = raw(admin, "get", f"/os-hypervisors/{name}/servers").json()["hypervisors"]
    assert servers[0]["hypervisor_hostname"] == name
    nova_error(raw(admin, "get", "/os-hypervisors/zzznothing/search"), 404, "itemNotFound")
    nova_error(raw(admin, "get", f"/os-hypervisors/{name}/search", "2.53"), 404, "itemNotFound")


def test_extensions(demo: Any) -> None:
    extensions = raw(demo, "get", "/extensions").json()["extensions"]
    assert "Hosts" in {e["name"] for e in extensions}
    for entry in extensions:
        assert set(entry) == {"name", "alias", "description", "namespace", "updated", "links"}
    one = raw(demo, "get", "/extensions/os-consoles").json()["extension"]
    assert one["alias"] == "os-consoles"
    nova_error(raw(demo, "get", "/extensions/os-nothing"), 404, "itemNotFound")


def test_quota_class_sets(admin: Any, demo: Any) -> None:
    before = raw(admin, "get", "/os-quota-class-sets/default").json()["quota_class_set"]
    assert before["id"] == "default" and "floating_ips" in before
    assert "server_groups" not in before  # shown from 2.50
    later = raw(admin, "get", "/os-quota-class-sets/default", "2.57").json()["quota_class_set"]
    assert "server_groups" in later and "floating_ips" not in later
    assert "injected_files" not in later
    try:
        updated = raw(
            admin, "put", "/os-quota-class-sets/default",
            json={"quota_class_set": {"instances": 17, "floating_ips": 3}},
        ).json()["quota_class_set"]  # fmt: skip
        assert "id" not in updated and updated["instances"] == 17
        # nova-network's keys are kept and shown (before 2.50), never enforced
        assert updated["floating_ips"] == 3
        shown = raw(admin, "get", "/os-quota-class-sets/default").json()["quota_class_set"]
        assert shown["floating_ips"] == 3 and shown["instances"] == 17
        nova_error(
            raw(admin, "put", "/os-quota-class-sets/default", "2.50",
                json={"quota_class_set": {"floating_ips": 4}}),
            400, "badRequest",
        )  # fmt: skip
        # the default class is every project's default
        defaults = raw(demo, "get", "/os-quota-sets/x/defaults").json()["quota_set"]
        assert defaults["instances"] == 17
        nova_error(
            raw(admin, "put", "/os-quota-class-sets/default",
                json={"quota_class_set": {"instances": "many"}}),
            400, "badRequest",
        )  # fmt: skip
        nova_error(
            raw(admin, "put", "/os-quota-class-sets/default",
                json={"quota_class_set": {"bogus": 1}}),
            400, "badRequest",
        )  # fmt: skip
        nova_error(
            raw(demo, "put", "/os-quota-class-sets/default",
                json={"quota_class_set": {"instances": 1}}),
            403, "forbidden",
        )  # fmt: skip
        nova_error(
            raw(admin, "put", "/os-quota-class-sets/gold",
                json={"quota_class_set": {"instances": 1}}),
            501, "notImplemented",
        )  # fmt: skip
    finally:
        raw(
            admin, "put", "/os-quota-class-sets/default",
            json={"quota_class_set": {k: before[k] for k in ("instances", "floating_ips")}},
        )  # fmt: skip


def test_instance_usage_audit_log(admin: Any, demo: Any) -> None:
    logs = raw(admin, "get", "/os-instance_usage_audit_log").json()["instance_usage_audit_logs"]
    keys = {
        "hosts_not_run", "log", "num_hosts", "num_hosts_done", "num_hosts_not_run",
        "num_hosts_running", "overall_status", "period_beginning", "period_ending",
        "total_errors", "total_instances",
    }  # fmt: skip
    assert set(logs) == keys
    assert logs["num_hosts"] == len(logs["hosts_not_run"]) == logs["num_hosts_not_run"] >= 1
    when = quote("2026-03-15 10:00:00")
    one = raw(admin, "get", f"/os-instance_usage_audit_log/{when}").json()
    log = one["instance_usage_audit_log"]
    assert (log["period_beginning"], log["period_ending"]) == (
        "2026-02-01 00:00:00",
        "2026-03-01 00:00:00",
    )
    nova_error(raw(admin, "get", "/os-instance_usage_audit_log/yesterday"), 400, "badRequest")
    nova_error(raw(demo, "get", "/os-instance_usage_audit_log"), 403, "forbidden")


def test_migration_needs_a_manager(
    cloud: RunningCloud, admin: Any, demo: Any, make_server: Any
) -> None:
    project = admin.identity.find_project("demo")
    password = unique("pw")
    user = admin.identity.create_user(name=unique("mgr"), password=password, domain_id="default")
    manager_role = admin.identity.find_role("manager")
    admin.identity.assign_project_role_to_user(project, user, manager_role)
    try:
        manager = cloud.connect(user.name, "demo", password=password)
        server = make_server(demo)
        action = f"/servers/{server.id}/action"
        nova_error(raw(demo, "post", action, json={"migrate": None}), 403, "forbidden")
        nova_error(raw(demo, "post", action, json={"os-migrateLive": {"host": None}}), 403,
                   "forbidden")  # fmt: skip
        # the manager may ask (onestack does not move servers: 501), not choose the host
        nova_error(raw(manager, "post", action, json={"migrate": None}), 501, "notImplemented")
        nova_error(raw(manager, "post", action, json={"migrate": {"host": "h"}}, **{}), 403,
                   "forbidden")  # fmt: skip
        nova_error(raw(admin, "post", action, json={"os-migrateLive": {"host": None}}), 501,
                   "notImplemented")  # fmt: skip
    finally:
        admin.identity.delete_user(user)


def test_os_services_fields_follow_the_microversion(admin: Any) -> None:
    # Tempest validates os-services against Nova's schema of each microversion
    old = raw(admin, "get", "/os-services").json()["services"]
    assert old and all("forced_down" not in s for s in old)
    assert all(isinstance(s["id"], int) for s in old)
    new = raw(admin, "get", "/os-services", "2.11").json()["services"]
    assert all(s["forced_down"] is False for s in new)
    compute = next(s for s in old if s["binary"] == "nova-compute")
    body = {"host": compute["host"], "binary": "nova-compute", "forced_down": True}
    nova_error(raw(admin, "put", "/os-services/force-down", json=body), 404, "itemNotFound")


def test_migrations_answer_nova_checks_before_501(admin: Any, make_server: Any) -> None:
    # Tempest's live migration negative tests: an unknown host is 400, a suspended
    # server 409; what passes those checks is not implemented (501)
    server = make_server(admin)
    live = {"os-migrateLive": {"host": "no-such-host", "block_migration": "auto"}}
    path = f"/servers/{server.id}/action"
    nova_error(raw(admin, "post", path, "2.25", json=live), 400, "badRequest")
    cold = raw(admin, "post", path, "2.56", json={"migrate": {"host": "no-such-host"}})
    nova_error(cold, 400, "badRequest")
    nova_error(raw(admin, "post", path, json={"migrate": None}), 501, "notImplemented")
    admin.compute.suspend_server(server)
    admin.compute.wait_for_server(server, status="SUSPENDED", wait=60)
    live["os-migrateLive"]["host"] = None
    nova_error(raw(admin, "post", path, "2.25", json=live), 409, "conflictingRequest")
