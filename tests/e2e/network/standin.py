"""A stand-in for the compute service's metadata provider (e2e tests only).

The test writes ``{instance_id: {...}}`` to the file named by
``ONESTACK_TEST_METADATA_FILE``; the server loads this module through the
``network.metadata_provider`` setting.  Instances not in the file (real
servers) are answered by the compute service's provider.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from onestack.network.interface import InstanceMetadata


class FileMetadataProvider:
    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
        path = Path(os.environ.get("ONESTACK_TEST_METADATA_FILE", "/nonexistent"))
        try:
            data = json.loads(path.read_text()).get(instance_id)
        except (OSError, ValueError):
            return None
        if data is None:
            return self._compute(instance_id)
        return InstanceMetadata(
            uuid=instance_id,
            name=data["name"],
            hostname=data["name"],
            project_id=data.get("project_id", ""),
            public_keys=data.get("keys", {}),
            user_data=data["user_data"].encode() if data.get("user_data") else None,
        )

    def _compute(self, instance_id: str) -> InstanceMetadata | None:
        from onestack.common.db import Database
        from onestack.compute.netinfo import InstanceMetadataProvider

        db = Database(os.environ["ONESTACK_TEST_DB_URL"])
        try:
            found: InstanceMetadata | None = InstanceMetadataProvider(db).instance_metadata(
                instance_id
            )
            return found
        finally:
            db.dispose()


PROVIDER = FileMetadataProvider()
