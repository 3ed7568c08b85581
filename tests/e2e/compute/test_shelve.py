"""A shelved container is saved to an image and destroyed; unshelved, it boots from
that image, so a file written before shelving is still there."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.compute.helpers import alive, runc_state
from tests.support.server import RunningCloud

pytestmark = pytest.mark.root


def _wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, interval=0.05, wait=120)


def test_a_file_survives_shelve_and_unshelve(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    server = admin.compute.create_server(
        name=f"e2e-{uuid.uuid4().hex[:8]}", image_id=image_id, flavor_id="42", networks="none"
    )
    server = _wait(admin, server, "ACTIVE")
    try:
        pid = int(runc_state(cloud.state_dir, server.id)["pid"])  # type: ignore[index]
        (Path(f"/proc/{pid}/root") / "root/before-shelve").write_text("kept\n")

        admin.compute.shelve_server(server)
        _wait(admin, server, "SHELVED_OFFLOADED")
        assert runc_state(cloud.state_dir, server.id) is None and not alive(pid)
        shelved = list(admin.image.images(name=f"{server.name}-shelved"))
        assert len(shelved) == 1

        admin.compute.unshelve_server(server)
        _wait(admin, server, "ACTIVE")
        new_pid = int(runc_state(cloud.state_dir, server.id)["pid"])  # type: ignore[index]
        assert new_pid != pid
        assert (Path(f"/proc/{new_pid}/root") / "root/before-shelve").read_text() == "kept\n"
        assert list(admin.image.images(name=f"{server.name}-shelved")) == []
    finally:
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.05)
