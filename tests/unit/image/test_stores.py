"""The store set (which stores, which default, Glance's errors) and the fan-out writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.image.exceptions import StoreNotAvailable, StoreNotFound
from onestack.image.store import FanOutWriter, FilesystemStore, StoreWriter
from onestack.image.stores import StoreSet


@pytest.fixture()
def stores(tmp_path: Path) -> StoreSet:
    return StoreSet(
        {
            "file": FilesystemStore(tmp_path / "a"),
            "other": FilesystemStore(tmp_path / "b", name="other"),
        },
        "other",
    )


def test_default_and_errors(stores: StoreSet) -> None:
    assert stores.get(None).name == "other"
    assert [s["id"] for s in stores.info() if s.get("default")] == ["other"]
    with pytest.raises(StoreNotFound, match="Store for identifier nope not found"):
        stores.get("nope", for_upload=True)
    # a store Glance knows that is not enabled here is "not available" (409)
    with pytest.raises(StoreNotAvailable, match="cinder is not available"):
        stores.get("cinder", for_upload=True)
    with pytest.raises(StoreNotAvailable):
        stores.get("nope")
    with pytest.raises(ValueError):
        StoreSet({"file": stores.get("file")}, "swift")


def test_fan_out_writes_every_store_or_none(stores: StoreSet, tmp_path: Path) -> None:
    both = [stores.get("file"), stores.get("other")]
    writer = FanOutWriter(both, "img")
    writer.write(b"x" * 100)
    writer.commit()
    assert [name for name, _ in writer.locations] == ["file", "other"]
    assert (tmp_path / "a" / "img").read_bytes() == (tmp_path / "b" / "img").read_bytes()
    failed = FanOutWriter(both, "img2")
    failed.write(b"y")
    failed.abort()
    assert not (tmp_path / "a" / "img2").exists() and not (tmp_path / "b" / "img2").exists()
    assert list((tmp_path / "a" / ".incoming").iterdir()) == []


class _BrokenStore(FilesystemStore):
    """A store whose disk is full."""

    def writer(self, key: str) -> StoreWriter:
        writer = super().writer(key)

        def full(chunk: bytes) -> None:
            raise OSError(28, "No space left on device")

        writer.write = full  # type: ignore[method-assign]
        return writer


def test_fan_out_without_must_succeed_drops_a_failing_store(tmp_path: Path) -> None:
    good = FilesystemStore(tmp_path / "good")
    broken = _BrokenStore(tmp_path / "broken", name="broken")
    strict = FanOutWriter([good, broken], "img")
    with pytest.raises(OSError):
        strict.write(b"data")
    strict.abort()
    assert not (tmp_path / "good" / "img").exists()
    lenient = FanOutWriter([good, broken], "img", must_succeed=False)
    lenient.write(b"data")
    lenient.commit()
    assert lenient.locations == [("file", good.location_of(tmp_path / "good" / "img"))]
    assert lenient.failed == ["broken"]
    alone = FanOutWriter([broken], "img2", must_succeed=False)
    with pytest.raises(OSError):
        alone.write(b"data")
