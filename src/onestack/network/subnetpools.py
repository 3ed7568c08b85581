"""Subnet pools: prefixes that subnets are carved from, without overlaps.

A subnet created with ``subnetpool_id`` (or ``use_default_subnetpool``) and a
``prefixlen`` (default: the pool's) gets the first free prefix of that length
in the pool; one created with a ``cidr`` and a pool must lie inside the pool
and not overlap what the pool has already given out.  Pools may grow
(``prefixes`` only gain addresses on update); one with subnets cannot be
deleted.  Only admins make shared or default pools.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.attrs import as_bool, as_int, as_str, as_str_list, check_known, new_id
from onestack.network.collection import Collection
from onestack.network.exceptions import (
    InvalidInput,
    SubnetAllocationError,
    SubnetPoolInUse,
)
from onestack.network.listing import ListSpec
from onestack.network.models import Subnet, SubnetPool

POOL_ATTRS = {
    "name", "description", "prefixes", "default_prefixlen", "min_prefixlen", "max_prefixlen",
    "shared", "is_default", "default_quota", "address_scope_id", "project_id", "tenant_id",
}  # fmt: skip
POOL_LIST = ListSpec(
    SubnetPool,
    {
        "id": SubnetPool.id, "name": SubnetPool.name, "description": SubnetPool.description,
        "project_id": SubnetPool.project_id, "tenant_id": SubnetPool.project_id,
        "ip_version": SubnetPool.ip_version, "shared": SubnetPool.shared,
        "is_default": SubnetPool.is_default, "default_prefixlen": SubnetPool.default_prefixlen,
        "min_prefixlen": SubnetPool.min_prefixlen, "max_prefixlen": SubnetPool.max_prefixlen,
        "address_scope_id": SubnetPool.address_scope_id,
        "revision_number": SubnetPool.revision_number, "created_at": SubnetPool.created_at,
        "updated_at": SubnetPool.updated_at,
    },
    booleans=frozenset({"shared", "is_default"}),
    integers=frozenset(
        {"ip_version", "default_prefixlen", "min_prefixlen", "max_prefixlen", "revision_number"}
    ),
)  # fmt: skip

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _collapse(nets: Sequence[Net]) -> list[str]:
    """The fewest prefixes covering ``nets`` (one IP version at a time)."""
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network)]
    merged = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    return [str(n) for n in merged]


def first_free(prefixes: Sequence[str], used: Sequence[str], prefixlen: int) -> str | None:
    """The lowest prefix of length ``prefixlen`` inside ``prefixes`` overlapping nothing used."""
    taken = [ipaddress.ip_network(u) for u in used]
    free: list[Net] = []
    for prefix in prefixes:
        pieces: list[Net] = [ipaddress.ip_network(prefix)]
        for block in taken:
            rest: list[Net] = []
            for piece in pieces:
                if not piece.overlaps(block) or block.version != piece.version:
                    rest.append(piece)
                elif piece.supernet_of(block):  # type: ignore[arg-type]
                    rest.extend(piece.address_exclude(block))  # type: ignore[arg-type]
            pieces = rest
        free.extend(pieces)
    for piece in sorted(free, key=lambda n: int(n.network_address)):
        if piece.prefixlen <= prefixlen:
            return str(next(piece.subnets(new_prefix=prefixlen)))
    return None


class SubnetPools(Collection[SubnetPool]):
    wakes_agent = False
    resource = "subnetpool"
    spec = POOL_LIST

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.subnetpools_visible(ctx)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.subnetpool(session, ctx, item_id)

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> SubnetPool:
        check_known(body, POOL_ATTRS)
        core = self.core
        project = core.owner_for_create(ctx, body)
        core.enforce(ctx, "create_subnetpool", {"project_id": project})
        if "prefixes" not in body:
            raise InvalidInput(error_message="'prefixes' is a required attribute")
        prefixes = self._prefixes(body["prefixes"])
        version = prefixes[0].version
        row = SubnetPool(
            id=new_id(), project_id=project, ip_version=version,
            prefixes=_collapse(prefixes),
            min_prefixlen=8 if version == 4 else 64,
            max_prefixlen=32 if version == 4 else 128,
        )  # fmt: skip
        row.default_prefixlen = row.min_prefixlen
        self._apply_pool(ctx, row, body, creating=True)
        core.check_quota(session, project, "subnetpool")
        if row.is_default:
            self._one_default(session, row)
        session.add(row)
        session.flush()
        row.tag_list = []
        session.refresh(row)
        return row

    @staticmethod
    def _prefixes(value: Any) -> list[Net]:
        texts = as_str_list("prefixes", value)
        if not texts:
            raise InvalidInput(error_message="A subnet pool needs at least one prefix")
        try:
            prefixes = [ipaddress.ip_network(t, strict=False) for t in texts]
        except ValueError as exc:
            raise InvalidInput(error_message=f"Invalid prefix: {exc}") from None
        if len({p.version for p in prefixes}) != 1:
            raise InvalidInput(
                error_message="Illegal subnetpool: prefixes of different IP versions"
            )
        return prefixes

    def _apply_pool(
        self, ctx: RequestContext, row: SubnetPool, body: Mapping[str, Any], *, creating: bool
    ) -> None:
        if "name" in body:
            row.name = as_str("name", body["name"], allow_none=True)
        if "description" in body:
            row.description = as_str("description", body["description"], allow_none=True)
        top = 32 if row.ip_version == 4 else 128
        for key in ("min_prefixlen", "max_prefixlen", "default_prefixlen"):
            if body.get(key) is not None:
                setattr(row, key, as_int(key, body[key], low=0, high=top))
        if creating and body.get("default_prefixlen") is None:
            row.default_prefixlen = row.min_prefixlen
        if not row.min_prefixlen <= row.default_prefixlen <= row.max_prefixlen:
            raise InvalidInput(
                error_message="Illegal prefix bounds: min_prefixlen <= default_prefixlen <= "
                "max_prefixlen must hold"
            )
        for key in ("shared", "is_default"):
            if key in body:
                wanted = as_bool(key, body[key])
                if wanted != getattr(row, key):
                    verb = "create" if creating else "update"
                    self.core.enforce(
                        ctx, f"{verb}_subnetpool:{key}", {"project_id": row.project_id}
                    )
                setattr(row, key, wanted)
        if "default_quota" in body:
            quota = body["default_quota"]
            row.default_quota = None if quota is None else as_int("default_quota", quota, low=0)
        if body.get("address_scope_id") is not None:
            raise InvalidInput(error_message="Address scopes are not supported")

    @staticmethod
    def _one_default(session: Session, row: SubnetPool) -> None:
        other = session.scalar(
            select(SubnetPool).where(
                SubnetPool.is_default, SubnetPool.ip_version == row.ip_version,
                SubnetPool.id != row.id,
            )
        )  # fmt: skip
        if other is not None:
            raise InvalidInput(
                error_message=f"A default subnetpool for IPv{row.ip_version} already exists"
            )

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> SubnetPool:
        check_known(body, POOL_ATTRS - {"project_id", "tenant_id"})
        core = self.core
        with core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            if "prefixes" in body:
                wanted = self._prefixes(body["prefixes"])
                if wanted[0].version != row.ip_version:
                    raise InvalidInput(error_message="Prefixes must keep the pool's IP version")
                old = [ipaddress.ip_network(p) for p in row.prefixes]
                if _collapse([*wanted, *old]) != _collapse(wanted):
                    raise InvalidInput(error_message="Existing prefixes must be a subset of the "
                                       "new prefixes")  # fmt: skip
                row.prefixes = _collapse(wanted)
            self._apply_pool(ctx, row, body, creating=False)
            if row.is_default:
                self._one_default(session, row)
            core.bump(row)
            session.flush()
            core.with_tags(session, [row])
            return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        core = self.core
        with core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            if session.scalar(select(Subnet.id).where(Subnet.subnetpool_id == row.id).limit(1)):
                raise SubnetPoolInUse(
                    subnet_pool_id=row.id, reason="Subnets are allocated from this pool"
                )
            core.delete_tags(session, row.id)
            session.delete(row)

    # allocation (subnet create) ------------------------------------------------------

    def pool_for_subnet(
        self, session: Session, ctx: RequestContext, body: Mapping[str, Any], ip_version: int
    ) -> SubnetPool | None:
        """The pool a new subnet comes from, if its request names one."""
        if body.get("subnetpool_id"):
            pool = self.core.subnetpool(session, ctx, str(body["subnetpool_id"]))
        elif body.get("use_default_subnetpool") and as_bool(
            "use_default_subnetpool", body["use_default_subnetpool"]
        ):
            default = session.scalar(
                select(SubnetPool).where(SubnetPool.is_default, SubnetPool.ip_version == ip_version)
            )
            if default is None:
                raise InvalidInput(error_message=f"No default subnetpool found for IPv{ip_version}")
            pool = default
        else:
            return None
        if pool.ip_version != ip_version:
            raise InvalidInput(
                error_message=f"Cannot allocate IPv{ip_version} subnet from IPv"
                f"{pool.ip_version} subnet pool"
            )
        return pool

    def allocate_from_pool(
        self, session: Session, pool: SubnetPool, cidr: str | None, prefixlen: Any
    ) -> str:
        """The CIDR of a new subnet of ``pool`` (``cidr`` checked, or the first free one)."""
        used = list(session.scalars(select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id)))
        if cidr is not None:
            net = ipaddress.ip_network(cidr, strict=False)
            if not any(
                net.subnet_of(ipaddress.ip_network(p))  # type: ignore[arg-type]
                for p in pool.prefixes
            ):
                raise SubnetAllocationError(reason=f"Cidr {net} not in the subnet pool's prefixes")
            if any(net.overlaps(ipaddress.ip_network(u)) for u in used):
                raise SubnetAllocationError(reason=f"Cidr {net} overlaps another subnet")
            length = net.prefixlen
        else:
            length = pool.default_prefixlen if prefixlen is None else as_int("prefixlen", prefixlen)
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise SubnetAllocationError(
                reason=f"Unsupported prefix length {length}: the pool allows "
                f"{pool.min_prefixlen} to {pool.max_prefixlen}"
            )
        if cidr is not None:
            return str(ipaddress.ip_network(cidr, strict=False))
        found = first_free(pool.prefixes, used, length)
        if found is None:
            raise SubnetAllocationError(
                reason=f"Insufficient prefix space to allocate subnet size /{length}"
            )
        return found
