"""The metadata definitions catalog (metadefs): namespaces and their objects,
properties, tags and resource type associations, through openstacksdk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openstack import exceptions

from tests.functional.image.conftest import ImageAPI
from tests.support.errors import glance_error
from tests.support.names import unique

NS = "/v2/metadefs/namespaces"


@pytest.fixture()
def namespaces(admin: Any) -> Iterator[list[str]]:
    """Names of namespaces a test created; deleted afterwards whatever happened."""
    made: list[str] = []
    yield made
    for name in made:
        try:
            admin.image.update_metadef_namespace(name, is_protected=False)
            admin.image.delete_metadef_namespace(name)
        except exceptions.SDKException:
            pass


def _namespace(admin: Any, made: list[str], **attrs: Any) -> Any:
    name = unique("ns")
    made.append(name)
    return admin.image.create_metadef_namespace(namespace=name, **attrs)


def test_namespace_create_show_update_delete(admin: Any, namespaces: list[str]) -> None:
    created = _namespace(
        admin,
        namespaces,
        display_name="Some namespace",
        description="for a test",
        visibility="public",
        is_protected=True,
        resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}],
    )
    assert created.visibility == "public" and created.is_protected is True
    assert created.owner == admin.current_project_id
    shown = admin.image.get_metadef_namespace(created.namespace)
    assert shown.display_name == "Some namespace" and shown.description == "for a test"
    assert [a["name"] for a in shown.resource_type_associations] == ["OS::Glance::Image"]
    assert shown.resource_type_associations[0]["prefix"] == "hw_"
    listed = {n.namespace for n in admin.image.metadef_namespaces()}
    assert created.namespace in listed
    with pytest.raises(exceptions.ForbiddenException):
        admin.image.delete_metadef_namespace(created.namespace)
    # an update that names only some fields keeps the others
    updated = admin.image.update_metadef_namespace(created.namespace, is_protected=False)
    assert updated.is_protected is False and updated.visibility == "public"
    admin.image.delete_metadef_namespace(created.namespace)
    with pytest.raises(exceptions.NotFoundException):
        admin.image.get_metadef_namespace(created.namespace)


def test_duplicate_namespace_is_a_conflict(
    admin: Any, admin_api: ImageAPI, namespaces: list[str]
) -> None:
    created = _namespace(admin, namespaces)
    again = admin_api.post(NS, json={"namespace": created.namespace})
    glance_error(again, 409, "already exists")
    bad = admin_api.post(NS, json={"namespace": unique("ns"), "visibility": "everyone"})
    glance_error(bad, 400, "visibility")


def test_private_namespaces_stay_with_their_project(
    admin: Any, demo: Any, demo_api: ImageAPI, namespaces: list[str]
) -> None:
    private = _namespace(admin, namespaces, visibility="private")
    public = _namespace(admin, namespaces, visibility="public")
    seen = {n.namespace for n in demo.image.metadef_namespaces()}
    assert public.namespace in seen and private.namespace not in seen
    glance_error(demo_api.get(f"{NS}/{private.namespace}"), 404, private.namespace)
    assert demo.image.get_metadef_namespace(public.namespace).namespace == public.namespace
    only_public = admin.image.metadef_namespaces(visibility="private")
    assert public.namespace not in {n.namespace for n in only_public}
    # writes are the administrator's (Glance's default policy)
    glance_error(demo_api.post(NS, json={"namespace": unique("ns")}), 403)
    glance_error(demo_api.post(f"{NS}/{public.namespace}/tags/mine"), 403)


def test_namespace_list_filters_and_pages(
    admin: Any, admin_api: ImageAPI, namespaces: list[str]
) -> None:
    kind = unique("OS::Test::Kind")
    names = [
        _namespace(admin, namespaces, resource_type_associations=[{"name": kind}]).namespace
        for _ in range(3)
    ]
    _namespace(admin, namespaces)
    page = admin_api.get(NS, params={"resource_types": kind, "limit": 2, "sort_dir": "asc"})
    body = page.json()
    assert [n["namespace"] for n in body["namespaces"]] == names[:2]
    assert body["schema"] == "/v2/schemas/metadefs/namespaces" and "next" in body
    rest = admin_api.get(body["next"]).json()
    assert [n["namespace"] for n in rest["namespaces"]] == names[2:]
    assert "next" not in rest
    # the new resource type is listed from then on
    assert kind in {t.name for t in admin.image.metadef_resource_types()}
    glance_error(admin_api.get(NS, params={"sort_key": "nope"}), 400, "sort key")


def test_objects(admin: Any, admin_api: ImageAPI, namespaces: list[str]) -> None:
    ns = _namespace(admin, namespaces).namespace
    made = admin.image.create_metadef_object(
        ns,
        name="CPU Limits",
        description="limits",
        required=["quota"],
        properties={"quota": {"title": "Quota", "type": "integer", "minimum": 0}},
    )
    assert made.name == "CPU Limits" and made.required == ["quota"]
    shown = admin.image.get_metadef_object("CPU Limits", ns)
    assert shown.properties["quota"] == {"title": "Quota", "type": "integer", "minimum": 0}
    dup = admin_api.post(f"{NS}/{ns}/objects", json={"name": "CPU Limits"})
    glance_error(dup, 409, "already exists")
    bad = admin_api.post(
        f"{NS}/{ns}/objects", json={"name": "x", "properties": {"p": {"title": "P"}}}
    )
    glance_error(bad, 400, "type")
    renamed = admin_api.put(f"{NS}/{ns}/objects/CPU Limits", json={"name": "Limits"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Limits"
    assert [o.name for o in admin.image.metadef_objects(ns)] == ["Limits"]
    admin.image.delete_metadef_object("Limits", ns)
    assert list(admin.image.metadef_objects(ns)) == []
    glance_error(admin_api.get(f"{NS}/{ns}/objects/Limits"), 404, "Limits")


def test_properties(admin: Any, admin_api: ImageAPI, namespaces: list[str]) -> None:
    ns = _namespace(
        admin,
        namespaces,
        resource_type_associations=[{"name": "OS::Nova::Flavor", "prefix": "hw:"}],
    ).namespace
    made = admin.image.create_metadef_property(
        ns, name="cpu_policy", title="CPU policy", type="string", enum=["shared", "dedicated"]
    )
    assert made.title == "CPU policy" and made.enum == ["shared", "dedicated"]
    assert admin.image.get_metadef_property("cpu_policy", ns).type == "string"
    # the property is found under the association's prefix too
    prefixed = admin_api.get(f"{NS}/{ns}/properties/hw:cpu_policy")
    assert prefixed.status_code == 200 and prefixed.json()["title"] == "CPU policy"
    shown = admin_api.get(f"{NS}/{ns}", params={"resource_type": "OS::Nova::Flavor"}).json()
    assert list(shown["properties"]) == ["hw:cpu_policy"]
    missing_type = admin_api.post(f"{NS}/{ns}/properties", json={"name": "x", "title": "X"})
    glance_error(missing_type, 400, "type")
    updated = admin_api.put(
        f"{NS}/{ns}/properties/cpu_policy",
        json={"name": "cpu_policy", "title": "Policy", "type": "string"},
    )
    assert updated.status_code == 200 and updated.json()["title"] == "Policy"
    listed = admin_api.get(f"{NS}/{ns}/properties").json()["properties"]
    assert listed == {"cpu_policy": {"name": "cpu_policy", "title": "Policy", "type": "string"}}
    admin.image.delete_metadef_property("cpu_policy", ns)
    assert admin_api.get(f"{NS}/{ns}/properties").json() == {"properties": {}}


def test_tags(admin: Any, admin_api: ImageAPI, namespaces: list[str]) -> None:
    ns = _namespace(admin, namespaces).namespace
    admin.image.add_tag_to_metadef_namespace(ns, "one")
    glance_error(admin_api.post(f"{NS}/{ns}/tags/one"), 409, "already exists")
    namespace = admin.image.get_metadef_namespace(ns)
    # without append, the tags replace the namespace's tags
    namespace.set_tags(admin.image, ["two", "three"])

    def names() -> list[str]:
        return sorted(t["name"] for t in admin_api.get(f"{NS}/{ns}/tags").json()["tags"])

    assert names() == ["three", "two"]
    namespace.set_tags(admin.image, ["four"], append=True)
    assert names() == ["four", "three", "two"]
    dup = admin_api.post(
        f"{NS}/{ns}/tags", json={"tags": [{"name": "four"}]}, headers={"X-Openstack-Append": "true"}
    )
    glance_error(dup, 409, "four")
    renamed = admin_api.put(f"{NS}/{ns}/tags/four", json={"name": "five"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "five"
    assert admin_api.get(f"{NS}/{ns}/tags/five").json()["name"] == "five"
    assert admin_api.delete(f"{NS}/{ns}/tags/five").status_code == 204
    assert names() == ["three", "two"]
    admin.image.remove_tags_from_metadef_namespace(ns)
    assert names() == []


def test_protected_namespace_keeps_its_content(
    admin: Any, admin_api: ImageAPI, namespaces: list[str]
) -> None:
    ns = unique("ns")
    namespaces.append(ns)
    created = admin_api.post(
        NS,
        json={
            "namespace": ns,
            "protected": True,
            "tags": [{"name": "kept"}],
            "objects": [{"name": "obj"}],
            "properties": {"p": {"title": "P", "type": "boolean"}},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["tags"] == [{"name": "kept"}]
    for what in ("tags", "objects", "properties"):
        glance_error(admin_api.delete(f"{NS}/{ns}/{what}"), 403, "protected")
    shown = admin_api.get(f"{NS}/{ns}").json()
    assert shown["tags"] == [{"name": "kept"}] and shown["objects"][0]["name"] == "obj"
    assert shown["properties"] == {"p": {"title": "P", "type": "boolean"}}


def test_resource_type_associations(admin: Any, admin_api: ImageAPI, namespaces: list[str]) -> None:
    types = [t.name for t in admin.image.metadef_resource_types()]
    assert "OS::Glance::Image" in types and "OS::Nova::Server" in types
    ns = _namespace(admin, namespaces).namespace
    made = admin.image.create_metadef_resource_type_association(
        ns, name="OS::Nova::Server", prefix="os_", properties_target="scheduler_hints"
    )
    assert made.name == "OS::Nova::Server" and made.properties_target == "scheduler_hints"
    again = admin_api.post(f"{NS}/{ns}/resource_types", json={"name": "OS::Nova::Server"})
    glance_error(again, 409, "already exists")
    listed = [a.name for a in admin.image.metadef_resource_type_associations(ns)]
    assert listed == ["OS::Nova::Server"]
    admin.image.delete_metadef_resource_type_association("OS::Nova::Server", ns)
    assert list(admin.image.metadef_resource_type_associations(ns)) == []
    gone = admin_api.delete(f"{NS}/{ns}/resource_types/OS::Nova::Server")
    glance_error(gone, 404, "OS::Nova::Server")


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"namespace": 42},
        {"namespace": ""},
        {"namespace": "x" * 81},
        {"namespace": "ok", "protected": "yes"},
        {"namespace": "ok", "tags": "one"},
        {"namespace": "ok", "tags": [{"name": "a"}, {"name": "a"}]},
        {"namespace": "ok", "properties": {"p": {"title": "P", "type": "string", "x": 1}}},
        {"namespace": "ok", "properties": {"p": {"title": "P", "type": "text"}}},
        {"namespace": "ok", "resource_type_associations": [{"prefix": "hw_"}]},
        {"namespace": "ok", "colour": "blue"},
    ],
)
def test_bad_namespace_bodies_are_4xx(admin_api: ImageAPI, body: Any) -> None:
    response = admin_api.post(NS, json=body)
    assert response.status_code in (400, 409), response.text
    glance_error(response, response.status_code)
    assert admin_api.get(f"{NS}/ok").status_code == 404


def test_bad_item_bodies_are_400(admin: Any, admin_api: ImageAPI, namespaces: list[str]) -> None:
    ns = _namespace(admin, namespaces).namespace
    glance_error(admin_api.post(f"{NS}/{ns}/tags", json={}), 400, "tags")
    glance_error(admin_api.post(f"{NS}/{ns}/tags", json={"tags": [{"name": 3}]}), 400)
    glance_error(admin_api.post(f"{NS}/{ns}/objects", json={"name": "o", "required": "p"}), 400)
    glance_error(admin_api.post(f"{NS}/{ns}/properties", json=["x"]), 400)
    glance_error(
        admin_api.post(f"{NS}/{ns}/properties", json={"name": "p", "title": "P", "type": None}),
        400,
    )
    glance_error(admin_api.post(f"{NS}/{ns}/resource_types", json={"name": ""}), 400)
    assert admin_api.get(f"{NS}/{ns}").json().keys().isdisjoint({"tags", "objects", "properties"})


@pytest.mark.parametrize(
    ("schema", "name"),
    [
        ("namespace", "namespace"),
        ("namespaces", "namespaces"),
        ("object", "object"),
        ("objects", "objects"),
        ("property", "property"),
        ("properties", "properties"),
        ("tag", "tag"),
        ("tags", "tags"),
        ("resource_type", "resource_type_association"),
        ("resource_types", "resource_type_associations"),
    ],
)
def test_schemas(demo_api: ImageAPI, schema: str, name: str) -> None:
    body = demo_api.get(f"/v2/schemas/metadefs/{schema}").json()
    assert body["name"] == name and body["properties"], body
