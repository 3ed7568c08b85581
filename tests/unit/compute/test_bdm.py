"""block_device_mapping_v2 parsing and boot planning (no server, no volumes)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound, NotSupported
from onestack.compute import bdm

CTX = RequestContext(project_id="p1", user_id="u1", roles=("member",))
IMAGE = SimpleNamespace(id="img-1", min_ram=64, min_disk=0, size=20 * 1024 * 1024)


@dataclass
class Volume:
    id: str
    status: str = "available"
    bootable: bool = True
    multiattach: bool = False


class Volumes:
    """Only what plan_boot asks of the volume service."""

    def __init__(self, *volumes: Volume) -> None:
        self.volumes = {v.id: v for v in volumes}

    def get_volume(self, ctx: RequestContext, volume_id: str) -> Any:
        if volume_id not in self.volumes:
            raise NotFound(f"Volume {volume_id} could not be found.")
        return self.volumes[volume_id]


def image_of(ref: str) -> Any:
    if ref != IMAGE.id:
        raise BadRequest(f"Image {ref} could not be found.")
    return IMAGE


def plan(raw: list[Any], image_ref: str = "", volumes: Any = None, count: int = 1) -> Any:
    service: Any = volumes or Volumes()
    return bdm.plan_boot(CTX, raw, image_ref, image_of, service, count)


def test_local_mappings_need_no_volumes() -> None:
    osc_image_boot = [{"uuid": "img-1", "boot_index": 0, "source_type": "image",
                       "destination_type": "local", "delete_on_termination": True}]  # fmt: skip
    assert plan(osc_image_boot, "img-1") is None
    with pytest.raises(BadRequest, match="Missing imageRef attribute"):
        plan(osc_image_boot, "")


def test_image_to_volume_is_a_volume_backed_boot() -> None:
    raw = [
        {
            "uuid": "img-1",
            "boot_index": "0",
            "source_type": "image",
            "destination_type": "volume",
            "volume_size": 1,
            "delete_on_termination": "true",
        }
    ]
    boot = plan(raw)
    assert boot.volume_backed and boot.image.id == "" and boot.image.min_ram == 64
    [row] = boot.rows
    assert row["device_name"] == "/dev/vda" and row["image_id"] == "img-1"
    assert row["delete_on_termination"] is True and row["volume_id"] is None


def test_data_volumes_get_the_next_free_devices() -> None:
    volumes = Volumes(Volume("v1"), Volume("v2"))
    raw = [{"uuid": "v1", "source_type": "volume", "destination_type": "volume",
            "device_name": "/dev/vdc"},
           {"uuid": "v2", "source_type": "volume", "boot_index": -1}]  # fmt: skip
    boot = plan(raw, "img-1", volumes)
    assert not boot.volume_backed and boot.image is IMAGE
    assert [(r["volume_id"], r["device_name"]) for r in boot.rows] == [
        ("v1", "/dev/vdc"),
        ("v2", "/dev/vdb"),
    ]


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (
            [
                {
                    "uuid": "img-1",
                    "boot_index": 0,
                    "source_type": "image",
                    "destination_type": "volume",
                }
            ],
            BadRequest,
            "non-zero size",
        ),
        (
            [
                {
                    "uuid": "img-1",
                    "boot_index": 0,
                    "source_type": "blank",
                    "destination_type": "volume",
                    "volume_size": 1,
                }
            ],
            NotSupported,
            "blank",
        ),
        ([{"source_type": "cdrom"}], BadRequest, "source_type"),
        ([{"source_type": "image", "destination_type": "tape"}], BadRequest, "destination_type"),
        ([{"uuid": "v9", "boot_index": 0, "source_type": "volume"}], BadRequest, "failed to get"),
        ([{"uuid": "nb", "boot_index": 0, "source_type": "volume"}], BadRequest, "not bootable"),
        ([{"uuid": "busy", "source_type": "volume"}], BadRequest, "Currently in 'in-use'"),
        (["x"], BadRequest, "block_device_mapping_v2"),
        ([{"uuid": "v1", "source_type": "volume", "boot_index": "zero"}], BadRequest, "boot_index"),
        (
            [
                {"uuid": "v1", "source_type": "volume", "boot_index": 0},
                {"uuid": "img-1", "source_type": "image", "boot_index": 0},
            ],
            BadRequest,
            "Boot sequence",
        ),
    ],
)
def test_bad_mappings(raw: list[Any], error: type[Exception], message: str) -> None:
    volumes = Volumes(Volume("v1"), Volume("nb", bootable=False), Volume("busy", status="in-use"))
    with pytest.raises(error, match=message):
        plan(raw, "img-1", volumes)


def test_one_existing_volume_cannot_boot_several_servers() -> None:
    raw = [{"uuid": "v1", "boot_index": 0, "source_type": "volume"}]
    with pytest.raises(BadRequest, match="multiple instances"):
        plan(raw, "", Volumes(Volume("v1")), count=2)


def test_image_bigger_than_the_volume() -> None:
    big = SimpleNamespace(id="img-1", min_ram=0, min_disk=2, size=0)
    raw = [{"uuid": "img-1", "boot_index": 0, "source_type": "image",
            "destination_type": "volume", "volume_size": 1}]  # fmt: skip
    with pytest.raises(BadRequest, match="minimum size is 2147483648 bytes"):
        bdm.plan_boot(CTX, raw, "", lambda ref: big, cast(Any, Volumes()), 1)


def test_device_names_run_out_after_vdz() -> None:
    assert bdm.next_device(set()) == "/dev/vdb"
    assert bdm.next_device(set(bdm.DATA_DEVICES)) is None
