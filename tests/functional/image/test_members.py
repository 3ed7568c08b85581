"""Sharing an image with another project: members, accept/reject, visibility."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.functional.image.conftest import ImageAPI
from tests.support.errors import glance_error
from tests.support.names import unique


def _shared(admin: Any, made: list[str], visibility: str = "shared") -> Any:
    image = admin.image.create_image(
        name=unique("share"),
        data=b"shared bytes" * 10,
        disk_format="raw",
        container_format="bare",
        visibility=visibility,
        allow_duplicates=True,
        validate_checksum=False,
    )
    made.append(image.id)
    return image


def test_share_accept_and_see(admin: Any, demo: Any, made: list[str]) -> None:
    image = _shared(admin, made)
    project = demo.current_project_id
    member = admin.image.add_member(image, member=project)
    assert member.status == "pending" and member.member_id == project
    # pending: visible by id, but not in the default list
    assert demo.image.get_image(image.id).id == image.id
    assert image.id not in {i.id for i in demo.image.images()}
    assert image.id in {i.id for i in demo.image.images(member_status="pending")}
    demo.image.update_member(project, image.id, status="accepted")
    assert image.id in {i.id for i in demo.image.images()}
    assert demo.image.download_image(image.id).content == b"shared bytes" * 10
    members = list(admin.image.members(image))
    assert [(m.member_id, m.status) for m in members] == [(project, "accepted")]
    demo.image.update_member(project, image.id, status="rejected")
    assert image.id not in {i.id for i in demo.image.images()}
    admin.image.remove_member(project, image)
    assert demo.image.find_image(image.id) is None


def test_owner_cannot_accept_for_the_member(
    admin: Any, admin_api: ImageAPI, demo: Any, made: list[str]
) -> None:
    image = _shared(admin, made)
    project = demo.current_project_id
    admin.image.add_member(image, member=project)
    response = admin_api.request(
        "PUT", f"/v2/images/{image.id}/members/{project}", json={"status": "accepted"}
    )
    glance_error(response, 403, "not permitted to modify 'status'")
    bad = admin_api.request(
        "PUT", f"/v2/images/{image.id}/members/{project}", json={"status": "maybe"}
    )
    glance_error(bad, 400, "Invalid status: maybe")
    duplicate = admin_api.request(
        "POST", f"/v2/images/{image.id}/members", json={"member": project}
    )
    glance_error(duplicate, 409, f"Member {project} already exists")


def test_member_cannot_add_members_or_see_others(
    admin: Any, demo: Any, demo_api: ImageAPI, made: list[str]
) -> None:
    image = _shared(admin, made)
    project = demo.current_project_id
    admin.image.add_member(image, member=project)
    admin.image.add_member(image, member="someone-else")
    seen = demo_api.request("GET", f"/v2/images/{image.id}/members").json()
    assert [m["member_id"] for m in seen["members"]] == [project]
    assert seen["schema"] == "/v2/schemas/members"
    refused = demo_api.request("POST", f"/v2/images/{image.id}/members", json={"member": "another"})
    glance_error(refused, 403, "image:add_member")


def test_only_shared_images_have_members(admin: Any, admin_api: ImageAPI, made: list[str]) -> None:
    image = _shared(admin, made, visibility="private")
    response = admin_api.request("POST", f"/v2/images/{image.id}/members", json={"member": "p1"})
    assert glance_error(response, 403) == "Only shared images have members."


def test_unknown_member_is_404(admin: Any, made: list[str]) -> None:
    image = _shared(admin, made)
    with pytest.raises(exceptions.NotFoundException):
        admin.image.get_member("nobody", image)
