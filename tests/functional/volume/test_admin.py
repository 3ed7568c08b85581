"""Administrators' volume APIs: pools, backend capabilities, os-hosts, QoS specs,
encryption types, per-volume-type quotas and the extension list."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.volume.conftest import VolumeAPI, unique
from tests.support.server import RunningCloud

GiB = 1024**3


@pytest.fixture()
def make_type(admin: Any) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(**attrs: Any) -> Any:
        vtype = admin.block_storage.create_type(name=unique("type"), **attrs)
        made.append(vtype)
        return vtype

    yield make
    for vtype in made:
        try:
            admin.block_storage.delete_type(vtype)
        except sdk_exc.SDKException:
            pass


def _pool_directory(cloud: RunningCloud) -> str:
    for name in ("pool", "fake"):
        path = cloud.state_dir / "volume" / name
        if path.is_dir():
            return str(path)
    raise AssertionError("the volume backend's directory was not found")


def test_pools_report_the_capacity_of_the_pool_on_disk(
    cloud: RunningCloud, admin: Any, demo_api: VolumeAPI
) -> None:
    pools = list(admin.block_storage.backend_pools(details=True))
    assert len(pools) == 1
    caps = pools[0].capabilities
    stat = os.statvfs(_pool_directory(cloud))
    assert caps["total_capacity_gb"] == stat.f_blocks * stat.f_frsize // GiB
    assert 0 <= caps["free_capacity_gb"] <= caps["total_capacity_gb"]
    assert abs(caps["free_capacity_gb"] - stat.f_bavail * stat.f_frsize // GiB) <= 2
    assert caps["vendor_name"] == "Open Source"
    assert pools[0].name == f"{pools[0].name.split('#')[0]}#{caps['pool_name']}"
    # without detail only the name; users may not read pools
    plain = list(admin.block_storage.backend_pools())
    assert [p.name for p in plain] == [p.name for p in pools]
    response = demo_api.request("GET", "/scheduler-stats/get_pools")
    assert response.status_code == 403 and "forbidden" in response.json()


def test_pools_count_the_gigabytes_allocated_to_volumes(
    admin: Any, make_volume: Callable[..., Any]
) -> None:
    before = next(admin.block_storage.backend_pools(details=True)).capabilities
    make_volume(size=3)
    after = next(admin.block_storage.backend_pools(details=True)).capabilities
    assert after["allocated_capacity_gb"] == before["allocated_capacity_gb"] + 3


def test_capabilities_of_a_pool_agree_with_the_pool(admin: Any, admin_api: VolumeAPI) -> None:
    pool = next(admin.block_storage.backend_pools(details=True))
    caps = admin.block_storage.get_capabilities(pool.name)
    for key in ("vendor_name", "volume_backend_name", "storage_protocol", "pool_name"):
        assert getattr(caps, key) == pool.capabilities[key]
    # a client sends the pool's name up to the "#" (the rest is a URL fragment)
    backend = pool.name.split("#")[0]
    assert caps.namespace == f"OS::Storage::Capabilities::{backend}"
    assert caps.properties["thin_provisioning"]["type"] == "boolean"
    missing = admin_api.request("GET", "/capabilities/nowhere@file")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()


def test_hosts_list_services_and_show_volume_usage(
    admin_api: VolumeAPI, demo: Any, make_volume: Callable[..., Any]
) -> None:
    make_volume(size=2)
    hosts = admin_api.request("GET", "/os-hosts").json()["hosts"]
    services = {h["service"] for h in hosts}
    assert {"cinder-volume", "cinder-scheduler", "cinder-backup"} <= services
    volume_host = next(h for h in hosts if h["service"] == "cinder-volume")
    assert volume_host["service-status"] == "available"
    assert volume_host["service-state"] == "enabled"
    shown = admin_api.request("GET", f"/os-hosts/{volume_host['host_name']}").json()["host"]
    total = shown[0]["resource"]
    assert total["project"] == "(total)"
    mine = next(r["resource"] for r in shown if r["resource"]["project"] == demo.current_project_id)
    assert int(mine["volume_count"]) >= 1 and int(mine["total_volume_gb"]) >= 2
    assert int(total["total_volume_gb"]) >= int(mine["total_volume_gb"])
    missing = admin_api.request("GET", "/os-hosts/nowhere@file")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()


def test_a_disabled_volume_service_leaves_the_pools_and_hosts(
    admin: Any, admin_api: VolumeAPI
) -> None:
    pool = next(admin.block_storage.backend_pools())
    host = pool.name.split("#")[0]
    body = {"host": host, "binary": "cinder-volume"}
    assert admin_api.request("PUT", "/os-services/disable", json=body).status_code == 200
    try:
        assert pool.name not in {p.name for p in admin.block_storage.backend_pools()}
        hosts = admin_api.request("GET", "/os-hosts").json()["hosts"]
        assert host not in {h["host_name"] for h in hosts}
        assert admin_api.request("GET", f"/os-hosts/{host}").status_code == 404
    finally:
        admin_api.request("PUT", "/os-services/enable", json=body)
    assert pool.name in {p.name for p in admin.block_storage.backend_pools()}
    update = admin_api.request("PUT", f"/os-hosts/{host}", json={"status": "disable"})
    assert update.status_code == 501 and "notImplemented" in update.json()


def test_qos_specs_keys_and_associations(
    admin: Any, admin_api: VolumeAPI, make_type: Callable[..., Any]
) -> None:
    name = unique("qos")
    qos = admin.block_storage.create_qos_spec(name=name, consumer="front-end", read_iops_sec="200")
    try:
        assert qos.consumer == "front-end" and qos.specs == {"read_iops_sec": "200"}
        assert qos.id in {q.id for q in admin.block_storage.qos_specs()}
        dup = admin_api.request("POST", "/qos-specs", json={"qos_specs": {"name": name}})
        assert dup.status_code == 409 and "conflictingRequest" in dup.json()

        body = {"qos_specs": {"write_iops_sec": "100", "consumer": "both"}}
        assert admin_api.request("PUT", f"/qos-specs/{qos.id}", json=body).status_code == 200
        shown = admin.block_storage.get_qos_spec(qos.id)
        assert shown.consumer == "both"
        assert shown.specs == {"read_iops_sec": "200", "write_iops_sec": "100"}
        admin.block_storage.delete_qos_spec_metadata(qos.id, ["read_iops_sec"])
        assert admin.block_storage.get_qos_spec(qos.id).specs == {"write_iops_sec": "100"}
        gone = admin_api.request(
            "PUT", f"/qos-specs/{qos.id}/delete_keys", json={"keys": ["read_iops_sec"]}
        )
        assert gone.status_code == 404 and "itemNotFound" in gone.json()

        vtype = make_type()
        admin.block_storage.associate_qos_spec(qos.id, vtype.id)
        associated = list(admin.block_storage.qos_spec_associations(qos.id))
        assert [(a.id, a.name, a.association_type) for a in associated] == [
            (vtype.id, vtype.name, "volume_type")
        ]
        shown_type = admin_api.request("GET", f"/types/{vtype.id}").json()["volume_type"]
        assert shown_type["qos_specs_id"] == qos.id
        in_use = admin_api.request("DELETE", f"/qos-specs/{qos.id}")
        assert in_use.status_code == 400 and "badRequest" in in_use.json()
        admin.block_storage.disassociate_qos_spec(qos.id, vtype.id)
        assert list(admin.block_storage.qos_spec_associations(qos.id)) == []
        admin.block_storage.associate_qos_spec(qos.id, vtype.id)
        admin.block_storage.delete_qos_spec(qos.id, force=True)
        shown_type = admin_api.request("GET", f"/types/{vtype.id}").json()["volume_type"]
        assert shown_type["qos_specs_id"] is None
    finally:
        admin.block_storage.delete_qos_spec(qos.id, ignore_missing=True, force=True)
    assert admin_api.request("GET", f"/qos-specs/{qos.id}").status_code == 404


def test_qos_specs_list_sorts_and_pages(admin: Any, admin_api: VolumeAPI) -> None:
    made = [admin.block_storage.create_qos_spec(name=unique("qos")) for _ in range(3)]
    try:
        ids = [q["id"] for q in admin_api.request("GET", "/qos-specs").json()["qos_specs"]]
        # newest first by default
        assert [i for i in ids if i in {q.id for q in made}] == [q.id for q in reversed(made)]
        by_name = admin_api.request("GET", "/qos-specs?sort=name:asc").json()["qos_specs"]
        assert [q["name"] for q in by_name] == sorted(q["name"] for q in by_name)
        first = admin_api.request("GET", "/qos-specs?limit=1").json()
        assert len(first["qos_specs"]) == 1 and first["qos_specs_links"][0]["rel"] == "next"
        marker = first["qos_specs"][0]["id"]
        rest = admin_api.request("GET", f"/qos-specs?marker={marker}").json()["qos_specs"]
        assert [q["id"] for q in rest] == ids[1:]
        bad = admin_api.request("GET", "/qos-specs?sort=specs")
        assert bad.status_code == 400
    finally:
        for qos in made:
            admin.block_storage.delete_qos_spec(qos.id, ignore_missing=True)


def test_qos_specs_refuse_bad_input_and_users(admin_api: VolumeAPI, demo_api: VolumeAPI) -> None:
    bad = {"qos_specs": {"name": unique("qos"), "consumer": "middle"}}
    response = admin_api.request("POST", "/qos-specs", json=bad)
    assert response.status_code == 400 and "badRequest" in response.json()
    response = admin_api.request("POST", "/qos-specs", json={"qos_specs": {"consumer": "both"}})
    assert response.status_code == 400
    response = admin_api.request("GET", "/qos-specs/nothing/associate?vol_type_id=none")
    assert response.status_code == 404
    response = demo_api.request("GET", "/qos-specs")
    assert response.status_code == 403 and "forbidden" in response.json()


def test_encryption_type_lifecycle(
    admin: Any, admin_api: VolumeAPI, make_type: Callable[..., Any]
) -> None:
    vtype = make_type()
    assert admin_api.request("GET", f"/types/{vtype.id}/encryption").json() == {}
    made = admin.block_storage.create_type_encryption(
        vtype, provider="luks", cipher="aes-xts-plain64", key_size=256, control_location="front-end"
    )
    assert made.volume_type_id == vtype.id and made.key_size == 256
    again = admin_api.request(
        "POST",
        f"/types/{vtype.id}/encryption",
        json={"encryption": {"provider": "luks", "control_location": "front-end"}},
    )
    assert again.status_code == 400 and "badRequest" in again.json()
    admin.block_storage.update_type_encryption(
        encryption=made.encryption_id, volume_type=vtype, key_size=128, control_location="back-end"
    )
    shown = admin_api.request("GET", f"/types/{vtype.id}/encryption").json()
    assert (shown["key_size"], shown["control_location"]) == (128, "back-end")
    assert shown["encryption_id"] == made.encryption_id and shown["deleted"] is False
    item = admin_api.request("GET", f"/types/{vtype.id}/encryption/cipher").json()
    assert item == {"cipher": "aes-xts-plain64"}
    bad = admin_api.request(
        "PUT",
        f"/types/{vtype.id}/encryption/{made.encryption_id}",
        json={"encryption": {"control_location": "middle"}},
    )
    assert bad.status_code == 400
    admin.block_storage.delete_type_encryption(
        encryption=made.encryption_id, volume_type=vtype, ignore_missing=False
    )
    assert admin_api.request("GET", f"/types/{vtype.id}/encryption").json() == {}


def test_a_volume_of_an_encrypted_type_is_refused_not_stored_in_clear(
    admin: Any, demo_api: VolumeAPI, make_type: Callable[..., Any]
) -> None:
    vtype = make_type()
    admin.block_storage.create_type_encryption(
        vtype, provider="luks", cipher="aes-xts-plain64", key_size=256, control_location="front-end"
    )
    before = {v["id"] for v in demo_api.request("GET", "/volumes").json()["volumes"]}
    body = {"volume": {"size": 1, "volume_type": vtype.name, "name": unique("enc")}}
    response = demo_api.request("POST", "/volumes", json=body)
    assert response.status_code == 501
    assert "encrypt" in response.json()["notImplemented"]["message"]
    after = {v["id"] for v in demo_api.request("GET", "/volumes").json()["volumes"]}
    assert after == before


def test_per_type_quotas_show_in_defaults_and_limit_volumes_of_the_type(
    admin: Any,
    admin_api: VolumeAPI,
    demo: Any,
    demo_api: VolumeAPI,
    make_type: Callable[..., Any],
    make_volume: Callable[..., Any],
) -> None:
    vtype = make_type()
    key = f"volumes_{vtype.name}"
    defaults = admin_api.request("GET", "/os-quota-class-sets/default").json()["quota_class_set"]
    assert defaults[key] == -1 and defaults[f"gigabytes_{vtype.name}"] == -1
    body = {"quota_class_set": {f"snapshots_{vtype.name}": 7}}
    updated = admin_api.request("PUT", "/os-quota-class-sets/default", json=body)
    assert updated.json()["quota_class_set"][f"snapshots_{vtype.name}"] == 7
    project = demo.current_project_id
    shown = admin_api.request("GET", f"/os-quota-sets/{project}/defaults").json()["quota_set"]
    assert shown[f"snapshots_{vtype.name}"] == 7

    limit = {"quota_set": {key: 1}}
    assert admin_api.request("PUT", f"/os-quota-sets/{project}", json=limit).status_code == 200
    make_volume(volume_type=vtype.name)
    over = demo_api.request(
        "POST", "/volumes", json={"volume": {"size": 1, "volume_type": vtype.name}}
    )
    assert over.status_code == 413
    assert key in over.json()["overLimit"]["message"]
    usage = admin_api.request("GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]
    assert (usage[key]["limit"], usage[key]["in_use"]) == (1, 1)
    # volumes of other types are not limited by it
    make_volume()
    # the limit follows the type when it is renamed
    renamed = unique("type")
    admin.block_storage.update_type(vtype, name=renamed)
    limits = admin_api.request("GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert limits[f"volumes_{renamed}"] == 1 and key not in limits
    unknown = admin_api.request(
        "PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"volumes_nope": 1}}
    )
    assert unknown.status_code == 400


def test_extensions_list_what_is_implemented(demo_api: VolumeAPI) -> None:
    extensions = demo_api.request("GET", "/extensions").json()["extensions"]
    aliases = {e["alias"] for e in extensions}
    assert {"os-hosts", "qos-specs", "encryption", "scheduler-stats", "capabilities"} <= aliases
    assert "Hosts" in {e["name"] for e in extensions}
