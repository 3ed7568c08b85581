"""Image records through openstacksdk: create, show, list, update, delete, policy."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.functional.image.conftest import ImageAPI
from tests.support.errors import glance_error
from tests.support.names import unique


def _create(conn: Any, made: list[str], **kwargs: Any) -> Any:
    kwargs.setdefault("name", unique("img"))
    kwargs.setdefault("disk_format", "raw")
    kwargs.setdefault("container_format", "bare")
    image = conn.image.create_image(allow_duplicates=True, validate_checksum=False, **kwargs)
    made.append(image.id)
    return image


def test_version_discovery(admin_api: ImageAPI) -> None:
    for path in ("/", "/v2/"):
        response = admin_api.request("GET", path)
        assert response.status_code == 300
        versions = response.json()["versions"]
        assert versions[0]["id"] == "v2.16" and versions[0]["status"] == "CURRENT"
        assert versions[0]["links"][0]["href"].endswith("/v2/")
    assert admin_api.request("GET", "/versions").status_code == 200


def test_create_upload_show_download(admin: Any, made: list[str]) -> None:
    data = b"onestack image bytes\n" * 5000
    image = _create(admin, made, data=data, min_ram=32, tags=["t1"], os_distro="testos")
    shown = admin.image.get_image(image.id)
    assert shown.status == "active"
    assert shown.size == len(data)
    assert shown.checksum == __import__("hashlib").md5(data).hexdigest()
    assert shown.hash_algo == "sha512"
    assert shown.hash_value == __import__("hashlib").sha512(data).hexdigest()
    assert shown.min_ram == 32 and shown.tags == ["t1"] and shown.os_distro == "testos"
    assert shown.visibility == "shared"  # Glance's default
    assert shown.owner == admin.current_project_id
    assert admin.image.download_image(image).content == data


def test_show_shape(admin_api: ImageAPI, admin: Any, made: list[str]) -> None:
    image = _create(admin, made)
    body = admin_api.request("GET", f"/v2/images/{image.id}").json()
    assert body["status"] == "queued" and body["size"] is None and body["checksum"] is None
    assert body["self"] == f"/v2/images/{image.id}"
    assert body["file"] == f"/v2/images/{image.id}/file"
    assert body["schema"] == "/v2/schemas/image"
    assert body["created_at"].endswith("Z")


def test_list_filters(admin: Any, admin_api: ImageAPI, made: list[str]) -> None:
    tag = unique("tag")
    small = _create(admin, made, data=b"x" * 10, tags=[tag], flavour="vanilla")
    big = _create(admin, made, data=b"y" * 5000, tags=[tag], flavour="chocolate")
    queued = _create(admin, made, tags=[tag])

    def names(**query: Any) -> set[str]:
        return {i.name for i in admin.image.images(tag=tag, **query)}

    assert names() == {small.name, big.name, queued.name}
    assert names(status="queued") == {queued.name}
    assert names(size_min=100) == {big.name}
    assert names(size_max=100) == {small.name}
    assert names(name=small.name) == {small.name}
    by_property = admin_api.request("GET", f"/v2/images?tag={tag}&flavour=chocolate").json()
    assert [i["name"] for i in by_property["images"]] == [big.name]
    assert {i.name for i in admin.image.images(name=f"in:{small.name},{big.name}")} == {
        small.name,
        big.name,
    }


def test_sort_and_pagination(admin: Any, admin_api: ImageAPI, made: list[str]) -> None:
    tag = unique("page")
    created = [_create(admin, made, name=f"{tag}-{i}", tags=[tag]) for i in range(5)]
    listed = [i.name for i in admin.image.images(tag=tag, sort_key="name", sort_dir="asc")]
    assert listed == [c.name for c in created]
    page = admin_api.request("GET", f"/v2/images?tag={tag}&limit=2&sort=name:desc").json()
    assert [i["name"] for i in page["images"]] == [f"{tag}-4", f"{tag}-3"]
    assert page["next"].startswith("/v2/images?") and "marker=" in page["next"]
    second = admin_api.request("GET", page["next"]).json()
    assert [i["name"] for i in second["images"]] == [f"{tag}-2", f"{tag}-1"]
    # the SDK follows "next" by itself
    assert len(list(admin.image.images(tag=tag, limit=2))) == 5


def test_bad_list_queries(admin_api: ImageAPI) -> None:
    for query in ("sort_key=nope", "sort_dir=sideways", "limit=x", "marker=missing"):
        response = admin_api.request("GET", f"/v2/images?{query}")
        assert response.status_code == 400, query


def test_update_properties_and_tags(admin: Any, made: list[str]) -> None:
    image = _create(admin, made, foo="1")
    updated = admin.image.update_image(image, name="renamed", foo="2", bar="3", min_disk=2)
    assert updated.name == "renamed" and updated.min_disk == 2
    assert updated.properties["foo"] == "2" and updated.properties["bar"] == "3"
    admin.image.add_tag(image, "blue")
    admin.image.remove_tag(image, "blue")
    admin.image.add_tag(image, "red")
    assert admin.image.get_image(image.id).tags == ["red"]


def test_json_patch_rules(admin_api: ImageAPI, admin: Any, made: list[str]) -> None:
    image = _create(admin, made)
    path = f"/v2/images/{image.id}"
    patch = {"Content-Type": "application/openstack-images-v2.1-json-patch"}

    def send(ops: list[dict[str, Any]], headers: dict[str, str] = patch) -> Any:
        return admin_api.request("PATCH", path, json=ops, headers=headers)

    ok = send(
        [
            {"op": "add", "path": "/k", "value": "v"},
            {"op": "replace", "path": "/name", "value": "p"},
        ]
    )
    assert ok.status_code == 200 and ok.json()["k"] == "v" and ok.json()["name"] == "p"
    assert send([{"op": "remove", "path": "/k"}]).json().get("k") is None
    missing = send([{"op": "replace", "path": "/nothere", "value": "x"}])
    glance_error(missing, 409, "Property nothere does not exist.")
    readonly = send([{"op": "replace", "path": "/status", "value": "active"}])
    glance_error(readonly, 403, "Attribute 'status' is read-only.")
    not_string = send([{"op": "add", "path": "/k", "value": 5}])
    glance_error(not_string, 400, "is not of type 'string'")
    wrong_type = send([], headers={"Content-Type": "application/json"})
    glance_error(wrong_type, 415, "application/json is not supported")


def test_create_validation(admin_api: ImageAPI) -> None:
    cases = [
        ({"disk_format": "floppy"}, 400),
        ({"visibility": "everyone"}, 400),
        ({"min_ram": -1}, 400),
        ({"status": "active"}, 403),
        ({"extra": 1}, 400),
        ({"id": "not-a-uuid"}, 400),
    ]
    for body, status in cases:
        response = admin_api.request("POST", "/v2/images", json={"name": unique("bad"), **body})
        assert response.status_code == status, (body, response.text)
        assert response.json()["message"]


def test_error_body_negotiation(admin_api: ImageAPI) -> None:
    missing = "/v2/images/00000000-0000-0000-0000-000000000000"
    as_json = admin_api.request("GET", missing, headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json() == {
        "message": "No image found with ID 00000000-0000-0000-0000-000000000000",
        "code": "404 Not Found",
        "title": "Not Found",
    }
    as_html = admin_api.request("GET", missing, headers={"Accept": "*/*"})
    assert as_html.headers["content-type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in as_html.text


def test_duplicate_id_conflicts(admin_api: ImageAPI, admin: Any, made: list[str]) -> None:
    image = _create(admin, made)
    again = admin_api.request("POST", "/v2/images", json={"id": image.id, "name": "dup"})
    glance_error(again, 409, f"An image with identifier {image.id} already exists")


def test_protected_image_cannot_be_deleted(admin: Any, made: list[str]) -> None:
    image = _create(admin, made, is_protected=True)
    with pytest.raises(exceptions.ForbiddenException):
        admin.image.delete_image(image)
    admin.image.update_image(image, is_protected=False)
    admin.image.delete_image(image)
    assert admin.image.find_image(image.id) is None


def test_deactivate_reactivate(admin: Any, demo: Any, demo_api: ImageAPI, made: list[str]) -> None:
    data = b"deactivate me" * 100
    image = _create(admin, made, data=data, visibility="public")
    admin.image.deactivate_image(image)
    assert admin.image.get_image(image.id).status == "deactivated"
    refused = demo_api.request("GET", f"/v2/images/{image.id}/file")
    assert refused.status_code == 403 and "deactivated" in refused.json()["message"]
    forbidden = demo_api.request("POST", f"/v2/images/{image.id}/actions/reactivate")
    assert forbidden.status_code == 403 and "image:reactivate" in forbidden.json()["message"]
    admin.image.reactivate_image(image)
    assert admin.image.get_image(image.id).status == "active"
    assert demo.image.download_image(image.id).content == data


def test_private_images_are_invisible_to_other_projects(
    admin: Any, demo: Any, demo_api: ImageAPI, made: list[str]
) -> None:
    private = _create(admin, made, visibility="private")
    assert demo.image.find_image(private.id) is None
    assert private.id not in {i.id for i in demo.image.images()}
    response = demo_api.request("GET", f"/v2/images/{private.id}")
    glance_error(response, 404, f"No image found with ID {private.id}")
    glance_error(demo_api.request("DELETE", f"/v2/images/{private.id}"), 404, private.id)


def test_only_admin_creates_public_images(demo: Any, demo_api: ImageAPI) -> None:
    response = demo_api.request(
        "POST", "/v2/images", json={"name": unique("pub"), "visibility": "public"}
    )
    glance_error(response, 403, "image:publicize_image")


def test_demo_cannot_modify_public_image(admin: Any, demo: Any, made: list[str]) -> None:
    image = _create(admin, made, visibility="public")
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.update_image(image.id, name="hijacked")
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.delete_image(image.id)


def test_schemas(admin_api: ImageAPI) -> None:
    image = admin_api.request("GET", "/v2/schemas/image").json()
    assert image["name"] == "image" and "disk_format" in image["properties"]
    assert image["additionalProperties"] == {"type": "string"}
    images = admin_api.request("GET", "/v2/schemas/images").json()
    assert images["properties"]["images"]["items"]["name"] == "image"
    assert admin_api.request("GET", "/v2/schemas/member").json()["name"] == "member"
    assert admin_api.request("GET", "/v2/schemas/members").json()["name"] == "members"


def test_unimplemented_apis_answer_501(admin_api: ImageAPI) -> None:
    for path in ("/v2/cache", "/v2/cached_images"):
        response = admin_api.request("GET", path)
        assert response.status_code == 501, path
        assert "not supported" in response.json()["message"]


def test_owner_deactivates_and_reactivates_own_image(
    demo: Any, demo_api: ImageAPI, made: list[str]
) -> None:
    data = b"mine to deactivate" * 10
    image = _create(demo, made, data=data, visibility="private")
    deactivated = demo_api.request("POST", f"/v2/images/{image.id}/actions/deactivate")
    assert deactivated.status_code == 204, deactivated.text
    assert demo.image.get_image(image.id).status == "deactivated"
    refused = demo_api.request("GET", f"/v2/images/{image.id}/file")
    glance_error(refused, 403, "deactivated")
    reactivated = demo_api.request("POST", f"/v2/images/{image.id}/actions/reactivate")
    assert reactivated.status_code == 204, reactivated.text
    assert demo.image.download_image(image.id).content == data


def test_images_with_data_name_their_store(
    admin: Any, admin_api: ImageAPI, made: list[str]
) -> None:
    queued = _create(admin, made)
    assert "stores" not in admin_api.request("GET", f"/v2/images/{queued.id}").json()
    active = _create(admin, made, data=b"stored bytes")
    body = admin_api.request("GET", f"/v2/images/{active.id}").json()
    stores = admin_api.request("GET", "/v2/info/stores").json()["stores"]
    default = [s["id"] for s in stores if s.get("default")]
    # the object storage runs in this cloud: it is the default store
    assert default == ["swift"] and sorted(s["id"] for s in stores) == ["file", "swift"]
    assert body["status"] == "active" and body["stores"] == "swift"


def test_image_path_without_an_id_is_404(admin_api: ImageAPI) -> None:
    for method in ("GET", "DELETE"):
        response = admin_api.request(method, "/v2/images/")
        assert response.status_code == 404, (method, response.status_code)
        assert response.json()["code"] == "404 Not Found"
