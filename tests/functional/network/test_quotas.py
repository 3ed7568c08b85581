"""Quotas (Neutron's quota API through the QuotaEngine) and IP availability."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique


def test_show_update_and_enforce(admin: Any, demo: Any) -> None:
    project = demo.current_project_id
    quota = admin.network.get_quota(project)
    assert quota.networks == 100 and quota.ports == 500
    details = admin.network.get_quota(project, details=True)
    assert details.networks["limit"] == 100 and "used" in details.networks
    used = len([n for n in demo.network.networks() if n.project_id == project])
    admin.network.update_quota(project, networks=used + 1)
    listed = {q.project_id: q for q in admin.network.quotas()}
    assert listed[project].networks == used + 1
    created = demo.network.create_network(name=unique("q"))
    try:
        body = neutron_error(
            lambda: demo.network.create_network(name=unique("q")), 409, "OverQuota"
        )
        assert "network" in body["message"]
    finally:
        demo.network.delete_network(created)
        admin.network.delete_quota(project)
    assert admin.network.get_quota(project).networks == 100
    assert project not in {q.project_id for q in admin.network.quotas()}


def test_members_cannot_change_quotas(demo: Any) -> None:
    neutron_error(
        lambda: demo.network.update_quota(demo.current_project_id, networks=1000),
        403,
        "PolicyNotAuthorized",
    )


def test_default_quota(admin: Any) -> None:
    defaults = admin.network.get_quota_default(admin.current_project_id)
    assert defaults.routers == 10 and defaults.floating_ips == 50


def test_network_ip_availability(admin: Any, network: Any, subnet: Any) -> None:
    admin.network.create_port(network_id=network.id)
    availability = admin.network.get_network_ip_availability(network.id)
    assert availability.total_ips == 253
    # the port and the network's DHCP port
    assert availability.used_ips == 2
    assert availability.subnet_ip_availability[0]["cidr"] == "10.20.0.0/24"
    listed = {a.network_id for a in admin.network.network_ip_availabilities()}
    assert network.id in listed
