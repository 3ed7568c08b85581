"""Networks: CRUD, visibility, admin-only attributes, listing features, tags, revisions."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique
from tests.support.http import RawClient as Raw


def test_create_show_update_delete(admin: Any) -> None:
    name = unique("net")
    net = admin.network.create_network(name=name, description="first", mtu=1400)
    try:
        assert net.status == "ACTIVE" and net.is_admin_state_up
        assert net.mtu == 1400 and net.description == "first"
        assert net.revision_number == 0 and net.created_at and net.updated_at
        assert net.is_port_security_enabled is True
        assert net.provider_network_type == "vxlan"
        shown = admin.network.get_network(net.id)
        assert shown.name == name and shown.project_id == admin.current_project_id
        updated = admin.network.update_network(net, name=name + "-x", is_admin_state_up=False)
        assert updated.name == name + "-x" and updated.is_admin_state_up is False
        assert updated.revision_number == 1
    finally:
        admin.network.delete_network(net)
    neutron_error(lambda: admin.network.get_network(net.id), 404, "NetworkNotFound")


def test_private_network_is_invisible_to_other_projects(
    admin: Any, demo: Any, network: Any
) -> None:
    body = neutron_error(lambda: demo.network.get_network(network.id), 404, "NetworkNotFound")
    assert network.id in body["message"]
    assert network.id not in {n.id for n in demo.network.networks()}


def test_shared_and_external_networks_are_visible(admin: Any, demo: Any, network: Any) -> None:
    admin.network.update_network(network, is_shared=True)
    assert demo.network.get_network(network.id).is_shared is True
    public = demo.network.find_network("public")
    assert public is not None and public.is_router_external


def test_members_cannot_set_admin_attributes(demo: Any) -> None:
    body = neutron_error(
        lambda: demo.network.create_network(name=unique("n"), is_shared=True),
        403,
        "PolicyNotAuthorized",
    )
    assert "create_network:shared" in body["message"]
    neutron_error(
        lambda: demo.network.create_network(name=unique("n"), is_router_external=True),
        403,
        "PolicyNotAuthorized",
    )


def test_unknown_attribute_and_bad_values_are_400(raw_admin: Raw) -> None:
    response = raw_admin.request("POST", "/v2.0/networks", json={"network": {"colour": "red"}})
    assert response.status_code == 400
    assert response.json()["NeutronError"]["type"] == "HTTPBadRequest"
    assert "colour" in response.json()["NeutronError"]["message"]
    response = raw_admin.request("POST", "/v2.0/networks", json={"network": {"mtu": "big"}})
    assert response.status_code == 400
    response = raw_admin.request("POST", "/v2.0/networks", json={"net": {}})
    assert response.status_code == 400
    response = raw_admin.request("POST", "/v2.0/networks", data=b"{not json")
    assert response.status_code == 400


def test_filters_fields_and_sorting(admin: Any, raw_admin: Raw) -> None:
    tag = unique("batch")
    nets = [admin.network.create_network(name=f"{tag}-{i}", mtu=1300 + i) for i in range(3)]
    try:
        for net in nets:
            admin.network.set_tags(net, [tag])
        found = list(admin.network.networks(tags=tag, sort_key="name", sort_dir="desc"))
        assert [n.name for n in found] == [f"{tag}-2", f"{tag}-1", f"{tag}-0"]
        assert [n.id for n in admin.network.networks(name=f"{tag}-1")] == [nets[1].id]
        assert [n.id for n in admin.network.networks(tags=tag, mtu=1302)] == [nets[2].id]
        response = raw_admin.request(
            "GET", f"/v2.0/networks?tags={tag}&fields=id&fields=mtu&sort_key=mtu"
        )
        assert response.status_code == 200
        assert response.json()["networks"] == [{"id": n.id, "mtu": n.mtu} for n in nets]
        two = raw_admin.request("GET", f"/v2.0/networks?name={tag}-0&name={tag}-2").json()
        assert {n["id"] for n in two["networks"]} == {nets[0].id, nets[2].id}
        response = raw_admin.request("GET", "/v2.0/networks?sort_key=colour")
        assert response.status_code == 400
    finally:
        for net in nets:
            admin.network.delete_network(net)


def test_pagination_links(admin: Any, raw_admin: Raw) -> None:
    tag = unique("page")
    nets = [admin.network.create_network(name=f"{tag}-{i}") for i in range(5)]
    try:
        for net in nets:
            admin.network.set_tags(net, [tag])
        first = raw_admin.request("GET", f"/v2.0/networks?tags={tag}&limit=2&sort_key=name")
        body = first.json()
        assert [n["name"] for n in body["networks"]] == [f"{tag}-0", f"{tag}-1"]
        links = {link["rel"]: link["href"] for link in body["networks_links"]}
        assert set(links) == {"next"} and f"marker={nets[1].id}" in links["next"]
        second = raw_admin.request("GET", links["next"].split(raw_admin.base, 1)[1]).json()
        assert [n["name"] for n in second["networks"]] == [f"{tag}-2", f"{tag}-3"]
        assert {link["rel"] for link in second["networks_links"]} == {"next", "previous"}
        # the SDK follows the links itself
        listed = [n.name for n in admin.network.networks(tags=tag, limit=2, sort_key="name")]
        assert listed == [f"{tag}-{i}" for i in range(5)]
        back = raw_admin.request(
            "GET",
            f"/v2.0/networks?tags={tag}&limit=2&sort_key=name&marker={nets[2].id}"
            "&page_reverse=True",
        ).json()
        assert [n["name"] for n in back["networks"]] == [f"{tag}-0", f"{tag}-1"]
    finally:
        for net in nets:
            admin.network.delete_network(net)


def test_tags_api(admin: Any, network: Any, raw_admin: Raw) -> None:
    admin.network.set_tags(network, ["red", "blue"])
    assert sorted(admin.network.get_network(network.id).tags) == ["blue", "red"]
    path = f"/v2.0/networks/{network.id}/tags"
    assert raw_admin.request("PUT", f"{path}/green").status_code == 201
    assert raw_admin.request("GET", f"{path}/green").status_code == 204
    missing = raw_admin.request("GET", f"{path}/purple")
    assert missing.status_code == 404 and missing.json()["NeutronError"]["type"] == "TagNotFound"
    assert raw_admin.request("DELETE", f"{path}/red").status_code == 204
    assert sorted(raw_admin.request("GET", path).json()["tags"]) == ["blue", "green"]
    assert [n.id for n in admin.network.networks(any_tags="green,nothing")] == [network.id]
    assert network.id not in {n.id for n in admin.network.networks(not_tags="green")}
    assert raw_admin.request("DELETE", path).status_code == 204
    assert admin.network.get_network(network.id).tags == []


def test_if_match_revision(admin: Any, network: Any, raw_admin: Raw) -> None:
    current = admin.network.get_network(network.id).revision_number
    path = f"/v2.0/networks/{network.id}"
    stale = raw_admin.request(
        "PUT",
        path,
        json={"network": {"name": "x"}},
        headers={"If-Match": f"revision_number={current + 5}"},
    )
    assert stale.status_code == 412
    assert stale.json()["NeutronError"]["type"] == "RevisionNumberConstraintFailed"
    ok = admin.network.update_network(network, name=unique("n"), if_revision=current)
    assert ok.revision_number == current + 1


def test_delete_network_in_use(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(network_id=network.id)
    body = neutron_error(lambda: admin.network.delete_network(network), 409, "NetworkInUse")
    assert network.id in body["message"]
    admin.network.delete_port(port)
    admin.network.delete_network(network)
    assert admin.network.find_network(network.id) is None


def test_bulk_create(raw_admin: Raw, admin: Any) -> None:
    names = [unique("bulk"), unique("bulk")]
    response = raw_admin.request(
        "POST", "/v2.0/networks", json={"networks": [{"name": n} for n in names]}
    )
    assert response.status_code == 201
    created = response.json()["networks"]
    assert [n["name"] for n in created] == names
    for item in created:
        admin.network.delete_network(item["id"])


def test_bulk_create_with_one_bad_item_creates_nothing(raw_admin: Raw, admin: Any) -> None:
    tag = unique("bulkbad")
    items = [{"name": f"{tag}-1"}, {"name": f"{tag}-2", "mtu": "not-a-number"}]
    response = raw_admin.request("POST", "/v2.0/networks", json={"networks": items})
    assert response.status_code == 400
    assert response.json()["NeutronError"]["type"] == "HTTPBadRequest"
    assert "mtu" in response.json()["NeutronError"]["message"]
    assert [n for n in admin.network.networks() if n.name.startswith(tag)] == []


def test_bulk_subnets_are_checked_against_each_other(
    raw_admin: Raw, admin: Any, network: Any
) -> None:
    items = [
        {"network_id": network.id, "cidr": "10.31.0.0/24", "ip_version": 4},
        {"network_id": network.id, "cidr": "10.31.0.0/25", "ip_version": 4},
    ]
    response = raw_admin.request("POST", "/v2.0/subnets", json={"subnets": items})
    assert response.status_code == 400
    error = response.json()["NeutronError"]
    assert error["type"] == "InvalidInput"
    assert "overlaps with another subnet" in error["message"]
    assert list(admin.network.subnets(network_id=network.id)) == []
    # the DHCP port the first subnet would have had is not there either
    assert list(admin.network.ports(network_id=network.id)) == []


def test_delete_external_network_removes_its_floating_ips(admin: Any) -> None:
    net = admin.network.create_network(name=unique("ext"), is_router_external=True)
    admin.network.create_subnet(
        network_id=net.id, cidr="198.51.100.0/24", ip_version=4, name=unique("extsub")
    )
    fip = admin.network.create_ip(floating_network_id=net.id)
    admin.network.delete_network(net)
    assert admin.network.find_network(net.id) is None
    assert list(admin.network.ips(floating_network_id=net.id)) == []
    assert admin.network.find_ip(fip.id) is None


def test_subnets_say_whether_their_network_is_external(
    admin: Any, raw_demo: Raw, raw_admin: Raw, subnet: Any
) -> None:
    own = raw_admin.request("GET", f"/v2.0/subnets/{subnet.id}").json()["subnet"]
    assert own["router:external"] is False
    public = admin.network.find_network("public")
    listed = raw_demo.request("GET", f"/v2.0/subnets?network_id={public.id}").json()["subnets"]
    assert listed and all(s["router:external"] is True for s in listed)
    aliases = {e["alias"] for e in raw_demo.request("GET", "/v2.0/extensions").json()["extensions"]}
    assert "subnet-external-network" in aliases


def test_agent_list_is_empty_for_members(admin: Any, demo: Any) -> None:
    assert list(admin.network.agents())
    assert list(demo.network.agents()) == []
