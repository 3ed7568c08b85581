"""Per-volume-type quotas on the manager alone: kept under the type's id,
shown under its name, and dropped with the type."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from onestack.common.bus import InProcessBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.migrations import upgrade
from onestack.common.models import QuotaDefault, QuotaLimit
from onestack.common.policy import Enforcer
from onestack.neighbours import Neighbours
from onestack.volume import policies
from onestack.volume.conf import VolumeSettings
from onestack.volume.manager import VolumeService
from onestack.volume.voltypes import ensure_default_type

ADMIN = RequestContext(
    request_id="req-type-quotas", user_id="admin", project_id="admin", roles=("admin", "member")
)


def _service(tmp_path: Path) -> VolumeService:
    db = Database(f"sqlite:///{tmp_path / 'volume.db'}")
    upgrade(db, ["onestack.volume"])
    settings = VolumeSettings(backend="fake", host="node1")
    ensure_default_type(db, settings.default_volume_type)
    bus = InProcessBus(drain_timeout=1.0)
    return VolumeService(db, Enforcer(policies.RULES), settings, bus, Neighbours.of({}))


def test_a_deleted_type_takes_its_quotas_with_it(tmp_path: Path) -> None:
    service = _service(tmp_path)
    vtype = service.types.create(ADMIN, {"name": "gold"})
    defaults = service.quota_sets.update_defaults(ADMIN, {"volumes_gold": 3})
    assert defaults["volumes_gold"] == 3 and defaults["gigabytes_gold"] == -1
    limits = service.quota_sets.update(ADMIN, "p1", {"gigabytes_gold": 5})
    assert limits["gigabytes_gold"] == 5 and limits["volumes_gold"] == 3
    with service.core.db.reader() as session:
        stored = {r.resource for r in session.scalars(select(QuotaDefault))}
        assert f"volumes_{vtype.id}" in stored

    service.types.delete(ADMIN, vtype.id)

    assert "volumes_gold" not in service.quota_sets.defaults(ADMIN)
    with service.core.db.reader() as session:
        left = [
            r.resource
            for model in (QuotaDefault, QuotaLimit)
            for r in session.scalars(select(model))
            if vtype.id in r.resource
        ]
    assert left == []
