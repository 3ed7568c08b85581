"""image_0003 moves the data of existing images into the file store's locations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from onestack.common.db import Database
from onestack.common.migrations import alembic_config


def test_existing_images_get_a_file_location(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'image.db'}")
    try:
        config = alembic_config(db, ["onestack.image"])
        command.upgrade(config, "image_0002")
        with db.engine.begin() as connection:
            for image_id, status, location, staged in (
                ("a", "active", "file:///images/a", None),
                ("s", "uploading", "file:///images/staging/s", 3),
                ("q", "queued", None, None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO image_images (id, status, visibility, min_disk, min_ram, "
                        "protected, os_hidden, location, staged_size, created_at, updated_at) "
                        "VALUES (:id, :status, 'private', 0, 0, 0, 0, :location, :staged, "
                        "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"
                    ),
                    {"id": image_id, "status": status, "location": location, "staged": staged},
                )
        command.upgrade(config, "image_0003")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT image_id, store, url FROM image_locations"))
            assert [tuple(r) for r in rows] == [("a", "file", "file:///images/a")]
            kept = dict(
                tuple(r) for r in connection.execute(text("SELECT id, location FROM image_images"))
            )
        assert kept == {"a": None, "s": "file:///images/staging/s", "q": None}
    finally:
        db.dispose()
