"""The compute service's tables (and nobody else's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from onestack.common.db import Base, JSONType, UTCDateTime, utcnow

ID = String(64)


class Flavor(Base):
    __tablename__ = "compute_flavors"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    ram: Mapped[int] = mapped_column(Integer)
    disk: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    extra_specs: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlavorAccess(Base):
    __tablename__ = "compute_flavor_access"

    flavor_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("compute_flavors.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ID, primary_key=True)


class Keypair(Base):
    __tablename__ = "compute_keypairs"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16), default="ssh")
    public_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Instance(Base):
    __tablename__ = "compute_instances"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    image_ref: Mapped[str] = mapped_column(String(255), default="")
    #: the image a shelved instance's root disk was saved to (until unshelved)
    shelved_image_id: Mapped[str | None] = mapped_column(String(255))
    #: the flavor as it was when the server was built (Nova embeds it too)
    flavor: Mapped[dict[str, Any]] = mapped_column(JSONType)
    flavor_id: Mapped[str] = mapped_column(String(255), index=True)
    old_flavor: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    vm_state: Mapped[str] = mapped_column(String(32), index=True)
    task_state: Mapped[str | None] = mapped_column(String(32))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    node: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    requested_az: Mapped[str | None] = mapped_column(String(255))
    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    security_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    networks: Mapped[Any] = mapped_column(JSONType, default=list)
    scheduler_hints: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    server_group_id: Mapped[str | None] = mapped_column(ID)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(16))
    locked_reason: Mapped[str | None] = mapped_column(Text)
    config_drive: Mapped[str] = mapped_column(String(16), default="")
    #: OS-DCF:diskConfig: AUTO (True) or MANUAL (False); containers keep the image's size
    auto_disk_config: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    access_ip_v4: Mapped[str] = mapped_column(String(64), default="")
    access_ip_v6: Mapped[str] = mapped_column(String(64), default="")
    reservation_id: Mapped[str] = mapped_column(String(64), index=True)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class InstanceFault(Base):
    __tablename__ = "compute_instance_faults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ID, index=True)
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceAction(Base):
    __tablename__ = "compute_instance_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ID, index=True)
    request_id: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    message: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceActionEvent(Base):
    __tablename__ = "compute_instance_action_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("compute_instance_actions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(255))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(32))
    traceback: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))


class ServerGroup(Base):
    __tablename__ = "compute_server_groups"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(ID, index=True)
    user_id: Mapped[str] = mapped_column(ID)
    policy: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    members: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComputeService(Base):
    """One binary on one host (nova-compute, nova-conductor, nova-scheduler)."""

    __tablename__ = "compute_services"
    __table_args__ = (UniqueConstraint("host", "binary"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComputeNode(Base):
    """A hypervisor: one compute host's capacity as its driver reports it."""

    __tablename__ = "compute_nodes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(64))
    hypervisor_version: Mapped[int] = mapped_column(Integer, default=0)
    host_ip: Mapped[str] = mapped_column(String(64), default="127.0.0.1")
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    local_gb: Mapped[int] = mapped_column(Integer)
    cpu_allocation_ratio: Mapped[float] = mapped_column(Float, default=16.0)
    ram_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.5)
    disk_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    reserved_memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    cpu_info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: the driver's Capabilities (flag -> bool); None until its agent registers
    capabilities: Mapped[dict[str, bool] | None] = mapped_column(JSONType, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockDeviceMapping(Base):
    """A volume of an instance (Nova's block_device_mapping): the boot volume
    (boot_index 0) or an attached one, with its Cinder attachment."""

    __tablename__ = "compute_block_device_mappings"
    __table_args__ = (UniqueConstraint("instance_id", "device_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # bdm_uuid
    instance_id: Mapped[str] = mapped_column(ID, index=True)
    volume_id: Mapped[str | None] = mapped_column(ID, index=True)
    attachment_id: Mapped[str | None] = mapped_column(ID)
    device_name: Mapped[str] = mapped_column(String(64))
    boot_index: Mapped[int | None] = mapped_column(Integer)
    source_type: Mapped[str] = mapped_column(String(32))
    destination_type: Mapped[str] = mapped_column(String(32), default="volume")
    image_id: Mapped[str | None] = mapped_column(ID)
    volume_size: Mapped[int | None] = mapped_column(Integer)
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(60))
    #: attaching, attached, detaching
    status: Mapped[str] = mapped_column(String(32), default="attaching")
    #: the block device on the instance's host (a loop device) once connected
    host_device: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleAuthToken(Base):
    """A remote console's token (Nova's console_auth_tokens): only its hash is stored."""

    __tablename__ = "compute_console_auth_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    console_type: Mapped[str] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Migration(Base):
    """One move of an instance (Nova's ``migrations`` table): onestack records each
    resize (in place, on the instance's own host) with its status over time."""

    __tablename__ = "compute_migrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(ID, unique=True)
    instance_uuid: Mapped[str] = mapped_column(ID, index=True)
    migration_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    dest_host: Mapped[str | None] = mapped_column(String(64))
    #: the flavors' ids (Nova shows its internal integer ids, which onestack has not)
    old_flavor_id: Mapped[str | None] = mapped_column(String(255))
    new_flavor_id: Mapped[str | None] = mapped_column(String(255))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[str] = mapped_column(ID)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Aggregate(Base):
    """A host aggregate (Nova's aggregates): a named group of compute hosts with
    metadata; its ``availability_zone`` key makes an availability zone of its hosts."""

    __tablename__ = "compute_aggregates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(ID, unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    #: the metadata (key -> value); column ``metadata``
    properties: Mapped[dict[str, str]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AggregateHost(Base):
    """A compute host's membership of an aggregate."""

    __tablename__ = "compute_aggregate_hosts"
    __table_args__ = (UniqueConstraint("aggregate_id", "host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    aggregate_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("compute_aggregates.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
