"""A cloud whose object devices are in memory (``object.storage_backend = "memory"``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import swiftclient

from tests.functional.object.conftest import swift_connection
from tests.support.errors import swift_error
from tests.support.names import unique
from tests.support.server import new_cloud


def test_objects_live_in_memory_and_the_ring_cli_says_so(tmp_path: Path) -> None:
    running = new_cloud(
        tmp_path,
        ONESTACK_OBJECT__STORAGE_BACKEND="memory",
        ONESTACK_OBJECT__REPLICATOR_INTERVAL="0.2",
        ONESTACK_IMAGE__DEFAULT_IMAGES="false",
    ).start()
    try:
        conn = swift_connection(running, "admin")
        container = unique("mem")
        conn.put_container(container)
        conn.put_object(container, "o", contents=b"kept in memory")
        assert conn.get_object(container, "o")[1] == b"kept in memory"
        assert [o["name"] for o in conn.get_container(container)[1]] == ["o"]
        conn.delete_object(container, "o")
        with pytest.raises(swiftclient.ClientException) as info:
            conn.get_object(container, "o")
        swift_error(info.value, 404, "could not be found")
        state = str(running.state_dir)
        object_dir = running.state_dir / "object"
        assert (object_dir / "object.ring.json").is_file()
        assert not (object_dir / "devices").exists(), "memory devices need no directories"
        replicate = subprocess.run(
            [sys.executable, "-m", "onestack", "ring", "replicate", "--state-dir", state],
            capture_output=True,
            text=True,
            env=running.env(),
            timeout=60,
        )
        assert replicate.returncode != 0
        assert "replicas live in the running server" in replicate.stderr
    finally:
        running.stop()
    # the background passes ran over the memory devices (every 0.2 s) without a failure
    assert "periodic task" not in running.log_path.read_text()
