"""The compute service's settings (``[compute]`` in the TOML file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ComputeSettings(BaseModel):
    driver: Literal["container", "qemu", "fake", "auto"] = Field(
        "auto",
        description="Instance driver: container (runc), qemu (virtual machines), fake (no "
        "workloads) or auto (container where runc and root are available, fake otherwise).",
    )
    host: str | None = Field(None, description="This agent's host name; the machine's by default.")
    vm_host: Literal["auto", "on", "off"] = Field(
        "auto",
        description="A second compute host on this machine running virtual machines (the qemu "
        "driver) beside the first one: on, off, or auto (on where onestack runs as root with "
        "QEMU installed and the first host runs containers).",
    )
    vm_host_name: str | None = Field(
        None, description="Host name of the VM host; the first host's name plus '-vm' by default."
    )
    availability_zone: str = Field("nova", description="Availability zone of this host.")
    cpu_allocation_ratio: float = Field(16.0, gt=0, description="Virtual CPUs per host CPU.")
    ram_allocation_ratio: float = Field(1.5, gt=0, description="Virtual RAM per host RAM.")
    disk_allocation_ratio: float = Field(1.0, gt=0, description="Virtual disk per host disk.")
    reserved_host_memory_mb: int = Field(512, ge=0, description="Host RAM kept for the host.")
    pids_limit: int = Field(1024, ge=16, description="Process limit of every container.")
    stop_timeout: float = Field(
        10.0, ge=0, description="Seconds between SIGTERM and SIGKILL when stopping a container."
    )
    runc: str = Field("runc", description="The runc binary.")
    qemu: str = Field("qemu-system-x86_64", description="The QEMU binary of the qemu driver.")
    qemu_accel: Literal["auto", "kvm", "tcg"] = Field(
        "auto",
        description="Accelerator of the qemu driver: kvm, tcg (emulation) or auto (KVM where "
        "a probe guest boots under it, TCG otherwise).",
    )
    qemu_machine: str = Field("pc", description="QEMU machine type of virtual machines.")
    fake_vcpus: int = Field(1000, ge=1, description="vCPUs the fake driver reports.")
    fake_memory_mb: int = Field(800000, ge=1, description="RAM the fake driver reports.")
    fake_local_gb: int = Field(6000, ge=1, description="Disk the fake driver reports.")
    heartbeat_interval: float = Field(10.0, gt=0, description="Seconds between service reports.")
    sync_power_state_interval: float = Field(
        30.0,
        description="Seconds between power-state syncs of a host's instances (<= 0: never).",
    )
    image_cache_prune_interval: float = Field(
        2400.0,
        description="Seconds between sweeps of a host's image cache (<= 0: never).",
    )
    image_cache_max_age: float = Field(
        86400.0,
        ge=0,
        description="A cached image no instance of the host uses is removed after this many "
        "seconds unused.",
    )
    service_user: str = Field(
        "nova", description="The service user agents call the other services' APIs as."
    )
    service_password: str | None = Field(
        None,
        description="Its password; by default the one the bootstrap saved in the state "
        "directory (secrets/<service_user>-password).",
    )
    service_down_time: float = Field(60.0, gt=0, description="A service silent this long is down.")
    cross_host_attach: bool | None = Field(
        None,
        description="Attach volumes to servers on other hosts than the volume's (Nova's "
        "cross_az_attach, by host). Unset: yes on an all-in-one (one machine), no on a "
        "controller (no block-export protocol crosses hosts here).",
    )
    console_log_max_bytes: int = Field(
        1048576, ge=4096, description="The console log is truncated to half past this size."
    )
