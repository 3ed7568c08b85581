"""Accounts and containers: their metadata, listings, usage and deletion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onestack.common.exceptions import BadRequest, PreconditionFailed
from onestack.object import acl
from onestack.object.acl import Caller
from onestack.object.core import LISTING_LIMIT, ObjectCore, check_metadata, check_names
from onestack.object.exceptions import ContainerNotEmpty, ContainerNotFound
from onestack.object.listings import ContainerEntry, Subdir, Usage
from onestack.object.models import Account, Container, ObjectRow
from onestack.object.timestamps import new_timestamp


@dataclass(frozen=True)
class AccountInfo:
    name: str
    metadata: dict[str, Any]
    containers: int
    usage: Usage
    put_timestamp: str | None


def listing_options(query: dict[str, str]) -> dict[str, Any]:
    """Validated listing options from a request's query."""
    limit_raw = query.get("limit")
    limit = LISTING_LIMIT
    if limit_raw is not None:
        if not limit_raw.isdigit():
            raise PreconditionFailed("Value of limit must be a positive integer.")
        limit = int(limit_raw)
        if limit > LISTING_LIMIT:
            raise PreconditionFailed(f"Maximum limit is {LISTING_LIMIT}.")
    delimiter = query.get("delimiter", "")
    if len(delimiter) > 1:
        raise PreconditionFailed("Bad delimiter.")
    return {
        "prefix": query.get("prefix", ""),
        "delimiter": delimiter,
        "marker": query.get("marker", ""),
        "end_marker": query.get("end_marker", ""),
        "limit": limit,
        "reverse": query.get("reverse", "").lower() in ("1", "true", "yes", "on"),
    }


class ContainerManager:
    def __init__(self, core: ObjectCore) -> None:
        self.core = core

    # -- accounts -----------------------------------------------------------------

    def account_info(self, caller: Caller, account: str) -> AccountInfo:
        self.core.require_owner(caller, account, write=False)
        return self.account_info_unchecked(account)

    def account_info_unchecked(self, account: str) -> AccountInfo:
        listings = self.core.listings
        row: Account | None = listings.account(account)
        containers, usage = listings.account_usage(account)
        return AccountInfo(
            account,
            dict(row.metadata_) if row else {},
            containers,
            usage,
            row.put_timestamp if row else None,
        )

    def list_containers(
        self, caller: Caller, account: str, options: dict[str, Any]
    ) -> tuple[AccountInfo, list[ContainerEntry | Subdir]]:
        info = self.account_info(caller, account)
        return info, self.core.listings.list_containers(account, **options)

    def post_account(self, caller: Caller, account: str, meta: dict[str, str | None]) -> None:
        self.core.require_owner(caller, account, write=True)
        quotas = ("x-account-meta-quota-", "x-account-quota-")
        if any(k.startswith(quotas) for k in meta) and not caller.is_reseller():
            raise caller.denied()
        check_metadata(
            {k: v for k, v in meta.items() if k.startswith("x-account-meta-")}, "x-account-meta-"
        )
        project = acl.project_of(account)
        if project is None:
            raise BadRequest(f"Invalid account {account}.")
        self.core.listings.update_account(account, project, new_timestamp(), meta)

    # -- containers ---------------------------------------------------------------

    def put_container(
        self, caller: Caller, account: str, container: str, fields: dict[str, Any]
    ) -> bool:
        """Create the container or update it; True when it was created."""
        self.core.require_owner(caller, account, write=True)
        check_names(container=container)
        if not container:
            raise BadRequest("A container name is required.")
        check_metadata(fields.get("metadata", {}), "x-container-meta-")
        project = acl.project_of(account)
        if project is None:
            raise BadRequest(f"Invalid account {account}.")
        return self.core.listings.put_container(
            account, project, container, new_timestamp(), fields
        )

    def post_container(
        self, caller: Caller, account: str, container: str, fields: dict[str, Any]
    ) -> None:
        core = self.core
        core.require_owner(caller, account, write=True)
        row = core.listings.container(account, container)
        if row is None:
            raise ContainerNotFound(container=container)
        merged = {**row.metadata_}
        for key, value in fields.get("metadata", {}).items():
            merged[key] = value
        check_metadata(merged, "x-container-meta-")
        core.listings.update_container(account, container, fields)

    def container_info(
        self, caller: Caller, account: str, container: str, *, listing: bool = True
    ) -> tuple[Container, Usage]:
        core = self.core
        row = core.container_access(caller, account, container, write=False, listing=listing)
        return row, core.listings.container_usage(row.id)

    def list_objects(
        self, caller: Caller, account: str, container: str, options: dict[str, Any]
    ) -> tuple[Container, Usage, list[ObjectRow | Subdir]]:
        row, usage = self.container_info(caller, account, container)
        return row, usage, self.core.listings.list_objects(row.id, **options)

    def delete_container(self, caller: Caller, account: str, container: str) -> None:
        self.core.require_owner(caller, account, write=True)
        result = self.core.listings.delete_container(account, container)
        if result == "missing":
            raise ContainerNotFound(container=container)
        if result == "not_empty":
            raise ContainerNotEmpty()
