"""Neutron's dhcp_agent_scheduler and l3_agent_scheduler extensions: the API's answers.

This cloud runs no data plane, so its only agent is a Linux bridge agent that never
lives: what a live DHCP or L3 agent does with a network or router (and the data plane
following it) is proved in ``tests/e2e/network/test_agent_scheduling.py``."""

from __future__ import annotations

from typing import Any

from tests.support.http import RawClient

MISSING = "00000000-0000-4000-8000-000000000000"


def _error(response: Any, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert body["type"] == kind and body["message"], body


def _l2_agent(admin: Any) -> Any:
    return next(iter(admin.network.agents(agent_type="Linux bridge agent")))


def test_scheduler_extensions_are_listed(raw_demo: RawClient) -> None:
    aliases = {e["alias"] for e in raw_demo.get("/v2.0/extensions").json()["extensions"]}
    assert {"dhcp_agent_scheduler", "l3_agent_scheduler"} <= aliases
    shown = raw_demo.get("/v2.0/extensions/l3_agent_scheduler").json()["extension"]
    assert shown["name"] == "L3 Agent Scheduler"


def test_nothing_is_hosted_without_dhcp_or_l3_agents(admin: Any, network: Any, subnet: Any) -> None:
    l2 = _l2_agent(admin)
    assert list(admin.network.network_hosting_dhcp_agents(network)) == []
    assert list(admin.network.dhcp_agent_hosting_networks(l2)) == []
    assert list(admin.network.agent_hosted_routers(l2)) == []


def test_dhcp_agent_scheduler_errors(admin: Any, raw_admin: RawClient, network: Any) -> None:
    l2 = _l2_agent(admin)
    path = f"/v2.0/agents/{l2.id}/dhcp-networks"
    # the network is looked up first, then the agent, then the agent's type
    _error(raw_admin.post(path, json={"network_id": MISSING}), 404, "NetworkNotFound")
    _error(
        raw_admin.post(f"/v2.0/agents/{MISSING}/dhcp-networks", json={"network_id": network.id}),
        404,
        "AgentNotFound",
    )
    _error(raw_admin.post(path, json={"network_id": network.id}), 404, "InvalidDHCPAgent")
    _error(raw_admin.get(f"/v2.0/agents/{MISSING}/dhcp-networks"), 404, "AgentNotFound")
    _error(raw_admin.post(path, json={"network": network.id}), 400, "HTTPBadRequest")
    _error(raw_admin.post(path, json={"network_id": 7}), 400, "HTTPBadRequest")
    _error(raw_admin.post(path, json=[network.id]), 400, "HTTPBadRequest")
    _error(
        raw_admin.delete(f"/v2.0/agents/{MISSING}/dhcp-networks/{network.id}"),
        404,
        "AgentNotFound",
    )
    _error(raw_admin.delete(f"{path}/{network.id}"), 409, "NetworkNotHostedByDhcpAgent")
    assert list(admin.network.network_hosting_dhcp_agents(network)) == []


def test_l3_agent_scheduler_errors(admin: Any, raw_admin: RawClient) -> None:
    l2 = _l2_agent(admin)
    router = admin.network.create_router(name="l3-errors")
    try:
        path = f"/v2.0/agents/{l2.id}/l3-routers"
        _error(raw_admin.post(path, json={"router_id": MISSING}), 404, "RouterNotFound")
        _error(
            raw_admin.post(f"/v2.0/agents/{MISSING}/l3-routers", json={"router_id": router.id}),
            404,
            "AgentNotFound",
        )
        _error(raw_admin.post(path, json={"router_id": router.id}), 404, "InvalidL3Agent")
        _error(raw_admin.get(f"/v2.0/agents/{MISSING}/l3-routers"), 404, "AgentNotFound")
        _error(raw_admin.post(path, json={}), 400, "HTTPBadRequest")
        _error(raw_admin.delete(f"{path}/{router.id}"), 409, "RouterNotHostedByL3Agent")
        assert list(admin.network.routers_hosting_l3_agents(router)) == []
    finally:
        admin.network.delete_router(router)


def test_agent_scheduler_is_admin_only(admin: Any, raw_demo: RawClient, demo_network: Any) -> None:
    agent_id = _l2_agent(admin).id
    calls = [
        raw_demo.get(f"/v2.0/agents/{agent_id}/dhcp-networks"),
        raw_demo.post(f"/v2.0/agents/{agent_id}/dhcp-networks",
                      json={"network_id": demo_network.id}),
        raw_demo.delete(f"/v2.0/agents/{agent_id}/dhcp-networks/{demo_network.id}"),
        raw_demo.get(f"/v2.0/networks/{demo_network.id}/dhcp-agents"),
        raw_demo.get(f"/v2.0/agents/{agent_id}/l3-routers"),
        raw_demo.post(f"/v2.0/agents/{agent_id}/l3-routers", json={"router_id": MISSING}),
        raw_demo.delete(f"/v2.0/agents/{agent_id}/l3-routers/{MISSING}"),
        raw_demo.get(f"/v2.0/routers/{MISSING}/l3-agents"),
    ]  # fmt: skip
    for response in calls:
        _error(response, 403, "PolicyNotAuthorized")
