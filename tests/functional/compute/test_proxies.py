"""Nova's proxy APIs up to microversion 2.35 (images, security groups and rules,
floating IPs and their pools, networks, tenant networks), and their 404 from 2.36;
the v2.0 version document Nova lists first.  Shapes as Tempest's compute response
schemas check them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.compute.conftest import raw, unique

UUID_LEN = 36


def nova_error(response: Any, code: int, key: str) -> str:
    assert response.status_code == code, (response.status_code, response.text)
    body = response.json()
    assert list(body) == [key], body
    assert body[key]["code"] == code
    return str(body[key]["message"])


def test_root_lists_v2_0_first_and_describes_it(admin: Any) -> None:
    endpoint = admin.compute.get_endpoint()
    root = endpoint.rsplit("/v2.1", 1)[0]
    versions = raw(admin, "get", root + "/").json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0", "v2.1"]
    assert versions[0]["status"] == "SUPPORTED"
    for entry in versions:
        [link] = [x for x in entry["links"] if x["rel"] == "self"]
        document = raw(admin, "get", link["href"])
        assert document.status_code == 200
        assert document.json()["version"]["id"] == entry["id"]
    v2 = raw(admin, "get", root + "/v2/").json()["version"]
    assert set(v2) == {"id", "status", "version", "min_version", "updated", "links", "media-types"}
    assert v2["media-types"][0]["type"].endswith("version=2")


# -- images ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images(demo: Any) -> Iterator[list[Any]]:
    made = [
        demo.image.create_image(
            name=unique("proxyimg"), disk_format="raw", container_format="bare", **props
        )
        for props in ({"colour": "red"}, {"colour": "blue", "min_disk": 3})
    ]
    yield made
    for image in made:
        demo.image.delete_image(image, ignore_missing=True)


def test_image_list_show_and_filters(demo: Any, images: list[Any]) -> None:
    red, blue = images
    listed = raw(demo, "get", "/images").json()
    assert {red.id, blue.id} <= {i["id"] for i in listed["images"]}
    assert all(set(i) == {"id", "name", "links"} for i in listed["images"])
    detail = raw(demo, "get", f"/images/detail?name={red.name}").json()["images"]
    assert [i["id"] for i in detail] == [red.id]
    image = detail[0]
    assert {"id", "name", "links", "minRam", "minDisk", "metadata", "created", "updated",
            "status", "progress", "OS-EXT-IMG-SIZE:size"} <= set(image)  # fmt: skip
    assert image["status"] == "SAVING" and image["progress"] == 25  # queued: no data yet
    assert image["metadata"]["colour"] == "red"  # with openstacksdk's owner_specified.*
    assert image["created"].endswith("Z")
    shown = raw(demo, "get", f"/images/{blue.id}").json()["image"]
    assert shown["minDisk"] == 3 and shown["metadata"]["colour"] == "blue"
    at_least = raw(demo, "get", "/images/detail?minDisk=3").json()["images"]
    assert blue.id in {i["id"] for i in at_least} and red.id not in {i["id"] for i in at_least}
    by_property = raw(demo, "get", "/images?property-colour=blue").json()["images"]
    assert [i["id"] for i in by_property] == [blue.id]
    saving = raw(demo, "get", "/images?status=SAVING").json()["images"]
    assert saving == []  # Nova lowercases the status: Glance has no "saving" image here
    paged = raw(demo, "get", "/images?limit=1").json()
    assert len(paged["images"]) == 1 and paged["images_links"][0]["rel"] == "next"
    nova_error(raw(demo, "get", "/images/detail?minDisk=x"), 400, "badRequest")
    nova_error(
        raw(demo, "get", f"/images/{'0' * 8}-0000-0000-0000-{'0' * 12}"), 404, "itemNotFound"
    )
    nova_error(raw(demo, "get", "/images", "2.36"), 404, "itemNotFound")
    nova_error(raw(demo, "get", f"/images/{red.id}", "2.36"), 404, "itemNotFound")


def test_image_metadata(demo: Any, admin: Any, images: list[Any]) -> None:
    red = images[0]
    path = f"/images/{red.id}/metadata"
    before = raw(demo, "get", path).json()["metadata"]
    assert before["colour"] == "red"
    merged = raw(demo, "post", path, json={"metadata": {"tier": "L"}}).json()["metadata"]
    assert merged == {**before, "tier": "L"}
    replaced = raw(demo, "put", path, json={"metadata": {"shape": "round"}}).json()
    assert replaced == {"metadata": {"shape": "round"}}
    item = raw(demo, "put", f"{path}/shape", json={"meta": {"shape": "square"}})
    assert item.json() == {"meta": {"shape": "square"}}
    assert raw(demo, "get", f"{path}/shape").json() == {"meta": {"shape": "square"}}
    nova_error(raw(demo, "put", f"{path}/shape", json={"meta": {"other": "x"}}), 400, "badRequest")
    assert raw(demo, "delete", f"{path}/shape").status_code == 204
    nova_error(raw(demo, "get", f"{path}/shape"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", f"{path}/shape"), 404, "itemNotFound")
    too_many = {f"k{i}": "v" for i in range(129)}
    nova_error(raw(demo, "post", path, json={"metadata": too_many}), 403, "overLimit")
    assert raw(demo, "get", path).json() == {"metadata": {}}
    # another project's private image is invisible, its metadata untouchable
    private = admin.image.create_image(
        name=unique("private"), disk_format="raw", container_format="bare", visibility="private"
    )
    try:
        theirs = f"/images/{private.id}/metadata"
        nova_error(raw(demo, "get", theirs), 404, "itemNotFound")
        nova_error(raw(demo, "post", theirs, json={"metadata": {"a": "b"}}), 404, "itemNotFound")
    finally:
        admin.image.delete_image(private)


def test_image_delete(demo: Any) -> None:
    image = demo.image.create_image(name=unique("gone"), disk_format="raw", container_format="bare")
    assert raw(demo, "delete", f"/images/{image.id}").status_code == 204
    nova_error(raw(demo, "get", f"/images/{image.id}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", "/images/"), 404, "itemNotFound")  # a blank id


# -- security groups -----------------------------------------------------------------


def test_security_group_life_cycle(demo: Any) -> None:
    name = f" {unique('nsg')} "  # kept as given, surrounding blanks too (Tempest sends them)
    created = raw(
        demo, "post", "/os-security-groups", json={"security_group": {"name": name,
                                                                       "description": "d"}}
    )  # fmt: skip
    assert created.status_code == 200, created.text
    group = created.json()["security_group"]
    assert set(group) == {"id", "name", "description", "tenant_id", "rules"}
    assert group["name"] == name and group["rules"] == []  # egress rules are not Nova's
    gid = group["id"]
    try:
        listed = raw(demo, "get", "/os-security-groups").json()["security_groups"]
        assert gid in {g["id"] for g in listed} and "default" in {g["name"] for g in listed}
        assert len(raw(demo, "get", "/os-security-groups?limit=1").json()["security_groups"]) == 1
        updated = raw(
            demo, "put", f"/os-security-groups/{gid}",
            json={"security_group": {"name": name + "x", "description": "e"}},
        ).json()["security_group"]  # fmt: skip
        assert updated["name"] == name + "x" and updated["description"] == "e"
        tcp = raw(
            demo, "post", "/os-security-group-rules",
            json={"security_group_rule": {"parent_group_id": gid, "ip_protocol": "tcp",
                                          "from_port": 22, "to_port": 22, "cidr": "10.2.3.124/24"}},
        )  # fmt: skip
        assert tcp.status_code == 200, tcp.text
        rule = tcp.json()["security_group_rule"]
        assert rule["parent_group_id"] == gid and rule["ip_protocol"] == "tcp"
        assert (rule["from_port"], rule["to_port"]) == (22, 22)
        # the cidr as given (Neutron keeps it and adds normalized_cidr)
        assert rule["ip_range"] == {"cidr": "10.2.3.124/24"} and rule["group"] == {}
        neutron = demo.network.get_security_group_rule(rule["id"])
        assert neutron.remote_ip_prefix == "10.2.3.124/24"
        assert neutron.normalized_cidr == "10.2.3.0/24"
        icmp = raw(
            demo, "post", "/os-security-group-rules",
            json={"security_group_rule": {"parent_group_id": gid, "ip_protocol": "icmp",
                                          "from_port": -1, "to_port": -1}},
        ).json()["security_group_rule"]  # fmt: skip
        assert (icmp["from_port"], icmp["to_port"]) == (-1, -1)
        assert icmp["ip_range"] == {"cidr": "0.0.0.0/0"}
        source = raw(
            demo, "post", "/os-security-group-rules",
            json={"security_group_rule": {"parent_group_id": gid, "group_id": gid,
                                          "ip_protocol": "udp", "from_port": 53, "to_port": 53}},
        ).json()["security_group_rule"]  # fmt: skip
        assert source["group"] == {"name": name + "x", "tenant_id": group["tenant_id"]}
        shown = raw(demo, "get", f"/os-security-groups/{gid}").json()["security_group"]
        assert {r["id"] for r in shown["rules"]} == {rule["id"], icmp["id"], source["id"]}
        duplicate = raw(
            demo, "post", "/os-security-group-rules",
            json={"security_group_rule": {"parent_group_id": gid, "ip_protocol": "tcp",
                                          "from_port": 22, "to_port": 22, "cidr": "10.2.3.124/24"}},
        )  # fmt: skip
        nova_error(duplicate, 400, "badRequest")
        for bad in (
            {"ip_protocol": "tcp", "from_port": 30, "to_port": 20},
            {"ip_protocol": "tcp", "from_port": 0, "to_port": 20},
            {"ip_protocol": "gre", "from_port": 1, "to_port": 2},
            {"ip_protocol": "icmp", "from_port": 256, "to_port": 0},
            {"ip_protocol": "tcp", "from_port": "a", "to_port": 2},
            {"ip_protocol": "tcp"},
            {"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.300/8"},
        ):
            body = {"security_group_rule": {"parent_group_id": gid, **bad}}
            nova_error(raw(demo, "post", "/os-security-group-rules", json=body), 400, "badRequest")
        missing = {"security_group_rule": {"parent_group_id": UUID, "ip_protocol": "tcp",
                                           "from_port": 1, "to_port": 2}}  # fmt: skip
        nova_error(raw(demo, "post", "/os-security-group-rules", json=missing), 404, "itemNotFound")
        not_uuid = {"security_group_rule": {**missing["security_group_rule"],
                                            "parent_group_id": "not-an-id"}}  # fmt: skip
        nova_error(raw(demo, "post", "/os-security-group-rules", json=not_uuid), 400, "badRequest")
        assert raw(demo, "delete", f"/os-security-group-rules/{rule['id']}").status_code == 202
        nova_error(raw(demo, "delete", f"/os-security-group-rules/{rule['id']}"), 404,
                   "itemNotFound")  # fmt: skip
    finally:
        assert raw(demo, "delete", f"/os-security-groups/{gid}").status_code == 202
    nova_error(raw(demo, "get", f"/os-security-groups/{gid}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", "/os-security-groups/"), 404, "itemNotFound")  # a blank id


UUID = "11111111-2222-3333-4444-555555555555"


def test_security_group_refusals(demo: Any, admin: Any) -> None:
    for body in (
        {"security_group": {"name": "", "description": "d"}},
        {"security_group": {"name": "x" * 256, "description": "d"}},
        {"security_group": {"name": "n", "description": 1234}},
        {"security_group": {"name": "n"}},
        {"nothing": {}},
    ):
        nova_error(raw(demo, "post", "/os-security-groups", json=body), 400, "badRequest")
    default = [
        g for g in raw(demo, "get", "/os-security-groups").json()["security_groups"]
        if g["name"] == "default"
    ]  # fmt: skip
    message = nova_error(
        raw(demo, "delete", f"/os-security-groups/{default[0]['id']}"), 400, "badRequest"
    )
    assert "default" in message
    nova_error(raw(demo, "get", f"/os-security-groups/{UUID}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", f"/os-security-groups/{UUID}"), 404, "itemNotFound")
    # another project's group is not found
    nova_error(raw(admin, "get", "/os-security-groups", "2.36"), 404, "itemNotFound")
    theirs = raw(admin, "get", "/os-security-groups?all_tenants=1").json()["security_groups"]
    assert default[0]["id"] in {g["id"] for g in theirs}
    mine = raw(demo, "get", "/os-security-groups?all_tenants=1").json()["security_groups"]
    assert {g["tenant_id"] for g in mine} == {default[0]["tenant_id"]}


# -- floating IPs and networks -------------------------------------------------------


@pytest.fixture(scope="module")
def routed_network(admin: Any) -> Iterator[Any]:
    public = admin.network.find_network("public")
    assert public is not None, "the public network is missing"
    net = admin.network.create_network(name=unique("fipnet"))
    subnet = admin.network.create_subnet(network_id=net.id, cidr="10.78.0.0/24", ip_version=4)
    router = admin.network.create_router(
        name=unique("fiprouter"), external_gateway_info={"network_id": public.id}
    )
    admin.network.add_interface_to_router(router, subnet_id=subnet.id)
    yield net
    for server in list(admin.compute.servers(all_projects=True)):
        if net.name in (server.addresses or {}):
            admin.compute.delete_server(server)
            admin.compute.wait_for_delete(server, interval=0.1)
    admin.network.remove_interface_from_router(router, subnet_id=subnet.id)
    admin.network.delete_router(router)
    admin.network.delete_network(net)


def test_floating_ip_pools_allocation_and_release(admin: Any, demo: Any) -> None:
    pools = raw(demo, "get", "/os-floating-ip-pools").json()["floating_ip_pools"]
    assert {"name": "public"} in pools
    created = raw(demo, "post", "/os-floating-ips", json={"pool": "public"})
    assert created.status_code == 200, created.text
    fip = created.json()["floating_ip"]
    assert set(fip) == {"id", "ip", "fixed_ip", "instance_id", "pool"}
    assert fip["pool"] == "public" and fip["fixed_ip"] is None and fip["instance_id"] is None
    try:
        listed = raw(demo, "get", "/os-floating-ips").json()["floating_ips"]
        assert fip in listed
        assert raw(demo, "get", f"/os-floating-ips/{fip['id']}").json()["floating_ip"] == fip
        # the admin's own list holds only the admin project's addresses
        assert fip["id"] not in {
            f["id"] for f in raw(admin, "get", "/os-floating-ips").json()["floating_ips"]
        }
        nova_error(raw(demo, "post", "/os-floating-ips", json={"pool": "nopool"}), 404,
                   "itemNotFound")  # fmt: skip
        nova_error(raw(demo, "get", "/os-floating-ips", "2.36"), 404, "itemNotFound")
    finally:
        assert raw(demo, "delete", f"/os-floating-ips/{fip['id']}").status_code == 202
    nova_error(raw(demo, "get", f"/os-floating-ips/{fip['id']}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", f"/os-floating-ips/{fip['id']}"), 404, "itemNotFound")


def test_add_and_remove_floating_ip_actions(
    admin: Any, make_server: Any, routed_network: Any
) -> None:
    server = make_server(admin, networks=[{"uuid": routed_network.id}])
    fip = raw(admin, "post", "/os-floating-ips", json={}).json()["floating_ip"]
    action = f"/servers/{server.id}/action"
    try:
        added = raw(admin, "post", action, json={"addFloatingIp": {"address": fip["ip"]}})
        assert added.status_code == 202, added.text
        shown = raw(admin, "get", f"/os-floating-ips/{fip['id']}").json()["floating_ip"]
        assert shown["instance_id"] == server.id and shown["fixed_ip"].startswith("10.78.0.")
        nova_error(
            raw(admin, "post", action, json={"addFloatingIp": {"address": "192.0.2.250"}}),
            404,
            "itemNotFound",
        )
        nova_error(
            raw(admin, "post", action, json={"addFloatingIp": {"address": fip["ip"],
                                                               "fixed_address": "10.9.9.9"}}),
            400,
            "badRequest",
        )  # fmt: skip
        removed = raw(admin, "post", action, json={"removeFloatingIp": {"address": fip["ip"]}})
        assert removed.status_code == 202, removed.text
        shown = raw(admin, "get", f"/os-floating-ips/{fip['id']}").json()["floating_ip"]
        assert shown["instance_id"] is None and shown["fixed_ip"] is None
        again = raw(admin, "post", action, json={"removeFloatingIp": {"address": fip["ip"]}})
        nova_error(again, 409, "conflictingRequest")
        late = raw(admin, "post", action, "2.44", json={"addFloatingIp": {"address": fip["ip"]}})
        nova_error(late, 400, "badRequest")
        groups = raw(admin, "get", f"/servers/{server.id}/os-security-groups").json()
        assert [g["name"] for g in groups["security_groups"]] == ["default"]
        assert groups["security_groups"][0]["rules"]  # the default group's ingress rules
        nova_error(
            raw(admin, "get", f"/servers/{server.id}/os-security-groups", "2.36"),
            404,
            "itemNotFound",
        )
    finally:
        raw(admin, "delete", f"/os-floating-ips/{fip['id']}")


def test_networks_and_tenant_networks(demo: Any, admin: Any, routed_network: Any) -> None:
    listed = raw(admin, "get", "/os-networks").json()["networks"]
    entry = next(n for n in listed if n["id"] == routed_network.id)
    assert entry["label"] == routed_network.name and entry["cidr"] is None
    assert "bridge" in entry  # the admin sees nova-network's admin fields (as null)
    shown = raw(admin, "get", f"/os-networks/{routed_network.id}").json()["network"]
    assert shown == entry
    public = next(n for n in raw(demo, "get", "/os-networks").json()["networks"]
                  if n["label"] == "public")  # fmt: skip
    assert "bridge" not in public
    # the admin project's private network is not the demo project's
    nova_error(raw(demo, "get", f"/os-networks/{routed_network.id}"), 404, "itemNotFound")
    tenant = raw(admin, "get", "/os-tenant-networks").json()["networks"]
    assert {"id": routed_network.id, "label": routed_network.name, "cidr": None} in tenant
    one = raw(admin, "get", f"/os-tenant-networks/{routed_network.id}").json()["network"]
    assert one["id"] == routed_network.id
    nova_error(raw(admin, "post", "/os-networks", json={"network": {"label": "x"}}), 410,
               "computeFault")  # fmt: skip
    nova_error(raw(admin, "post", "/os-tenant-networks", json={"network": {}}), 410,
               "computeFault")  # fmt: skip
    nova_error(raw(admin, "get", "/os-networks", "2.36"), 404, "itemNotFound")
    nova_error(raw(admin, "get", "/os-tenant-networks", "2.36"), 404, "itemNotFound")
