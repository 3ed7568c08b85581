"""Request bodies of the block storage API that are checked by shape before the
manager sees them, as Cinder's JSON schemas define them (strings are strings,
identifiers are strings or null); extra keys are kept for the manager to judge."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

Text = Annotated[StrictStr, Field(max_length=255)] | None
Ref = StrictStr | None


class VolumeCreate(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: Text = None
    description: Text = None
    display_name: Text = None
    display_description: Text = None
    availability_zone: Text = None
    volume_type: Text = None
    size: Annotated[StrictInt, Field(ge=0)] | StrictStr | None = None
    snapshot_id: Ref = None
    source_volid: Ref = None
    backup_id: Ref = None
    imageRef: Ref = None
    consistencygroup_id: Ref = None
    group_id: Ref = None
    multiattach: StrictBool | None = None
    metadata: dict[str, Any] | None = None
    scheduler_hints: dict[str, Any] | None = None
