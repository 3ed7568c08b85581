"""The object service's settings (``[object]`` in the TOML file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ObjectSettings(BaseModel):
    part_power: int = Field(8, ge=1, le=20, description="A new ring has 2**part_power partitions.")
    replicas: int = Field(3, ge=1, le=6, description="Copies of every object in a new ring.")
    devices: int = Field(
        4, ge=1, le=64, description="Device directories (one zone each) in a new ring."
    )
    replicator_interval: float = Field(
        30.0, ge=0, description="Seconds between background replication passes (0: never)."
    )
    auditor_interval: float = Field(
        300.0, ge=0, description="Seconds between background auditor passes (0: never)."
    )
    expirer_interval: float = Field(
        2.0, ge=0, description="Seconds between passes removing expired objects (0: never)."
    )
    container_sync_interval: float = Field(
        5.0,
        ge=0,
        description="Seconds between container sync passes (0: never). Swift's default is "
        "300; a short interval makes a synced object appear at its target within seconds.",
    )
    sync_realm: str = Field(
        "realm1",
        description="The container sync realm this cloud belongs to (Swift's "
        "container-sync-realms.conf); empty: no realm, X-Container-Sync-To is refused.",
    )
    sync_cluster: str = Field(
        "name1", description="This cloud's cluster name in its container sync realm."
    )
    sync_realm_key: str = Field(
        "",
        description="The realm's shared secret; empty: a key made on the first start and kept "
        "in the state directory (enough for a realm of this one cloud).",
    )
    sync_realm_clusters: dict[str, str] = Field(
        default_factory=dict,
        description="The realm's other clusters: name -> their Swift endpoint up to /v1/ "
        "(http://host:8080/v1/); this cloud's own cluster is always in the realm.",
    )
    storage_backend: Literal["disk", "memory"] = Field(
        "disk",
        description="Where the ring's devices keep replicas: 'disk' (directories under the "
        "state directory, durable) or 'memory' (in the process, lost at shutdown).",
    )
    node_port: int = Field(
        6200, ge=1, le=65535, description="Port of this host's storage node (object role)."
    )
    node_devices: int = Field(
        2, ge=1, le=64, description="Devices a storage node serves (object role)."
    )
    crossdomain_policy: str = Field(
        '<allow-access-from domain="*" secure="false" />',
        description="The elements of the Flash cross-domain policy served at "
        "/crossdomain.xml (Swift's cross_domain_policy).",
    )
    max_file_size: int = Field(
        5 * 1024**3 + 2, ge=1, description="Largest single object (bytes); larger needs SLO/DLO."
    )
