"""Stories the functional tests (fake compute driver) and the e2e tests (real volumes
and objects as root) both tell, and their polling helper."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.support.names import unique


def eventually(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.3) -> Any:
    """The first true result of ``check`` (an AssertionError counts as not yet), or an
    AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
        time.sleep(every)


def found_resource(gnocchi: Any, resource_type: str, original_id: str) -> dict[str, Any] | None:
    found = gnocchi.resource.search(
        resource_type=resource_type, query={"=": {"original_resource_id": original_id}}
    )
    return found[0] if found else None


def service_meters_story(demo: Any, gnocchi: Any) -> None:
    """Volume, object storage and floating IP meters follow creates and deletes: a
    volume's ``volume.size``, the account's ``storage.objects*``, ``ip.floating``, and
    ``ended_at`` once gone.  ``demo`` is an openstacksdk connection, ``gnocchi`` an
    admin's gnocchiclient."""
    volume = demo.block_storage.create_volume(size=2, name=unique("metered-vol"))
    demo.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    found = eventually(lambda: found_resource(gnocchi, "volume", volume.id))
    assert found["display_name"] == volume.name and found["project_id"] == volume.project_id
    size = eventually(lambda: gnocchi.metric.get_measures("volume.size", resource_id=volume.id,
                                                          granularity=1))  # fmt: skip
    assert size[-1][2] == 2.0

    container = unique("metered")
    demo.object_store.create_container(container)
    demo.object_store.upload_object(container=container, name="a", data=b"x" * 1000)
    project = demo.current_project_id

    def objects() -> Any:
        measures = gnocchi.metric.get_measures("storage.objects.size", resource_id=project,
                                               granularity=1)  # fmt: skip
        return measures if measures and measures[-1][2] == 1000.0 else None

    eventually(objects)
    count = gnocchi.metric.get_measures("storage.objects", resource_id=project, granularity=1)
    assert count[-1][2] == 1.0
    assert gnocchi.metric.get("storage.objects.size", resource_id=project)["unit"] == "B"

    public = demo.network.find_network("public")
    fip = demo.network.create_ip(floating_network_id=public.id)

    def metered_ip() -> Any:
        found = found_resource(gnocchi, "network", fip.id)
        return found if found and "ip.floating" in found["metrics"] else None

    found_ip = eventually(metered_ip)
    assert gnocchi.metric.get(found_ip["metrics"]["ip.floating"])["unit"] == "ip"

    demo.block_storage.delete_volume(volume)
    demo.network.delete_ip(fip)
    demo.object_store.delete_object("a", container=container)
    demo.object_store.delete_container(container)
    assert eventually(lambda: gnocchi.resource.get("volume", volume.id)["ended_at"])
    assert eventually(lambda: gnocchi.resource.get("network", found_ip["id"])["ended_at"])
    emptied = eventually(
        lambda: (
            gnocchi.metric.get_measures("storage.objects", resource_id=project, granularity=1)[-1][
                2
            ]
            == 0.0
        )
    )
    assert emptied
    assert str(uuid.UUID(found["id"])) == volume.id
