"""Nova's proxy APIs: images, security groups, floating IPs and networks as the
compute API served them before microversion 2.36 (floating IP actions: 2.44).

Nova answers these from Glance and Neutron; so does onestack, through the image
and network services' interfaces (``cloud.neighbours.image`` and
``neighbours.network_proxy``), never their tables.  The rules here are Nova's:
its filters and names, its validation and the status codes it maps Neutron's and
Glance's answers to (a Neutron 409 is Nova's 400, an exhausted pool a 404, ...).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, NotFound, OneStackError
from onestack.compute.core import ComputeCore
from onestack.compute.exceptions import MetadataItemNotFound, QuotaExceeded
from onestack.image.interface import ImageRecord, ImageService
from onestack.network.interface import (
    FloatingIPRecord,
    NetworkInfo,
    NetworkProxyService,
    NetworkService,
    SecurityGroupRecord,
    SecurityGroupRuleRecord,
)

#: Nova's image list filters -> Glance's query parameters
IMAGE_FILTERS = {"name": "name", "status": "status", "type": "image_type"}


class Gone(OneStackError):
    """410: what Nova answers for nova-network's operations (create, delete,
    associate) now that only Neutron is left."""

    code = 410
    title = "Gone"
    fault_name = "computeFault"
    msg_fmt = "Network operations other than listing and showing are gone."


class ImageProxy:
    """``/v2.1/images``: Glance's images in Nova's shape."""

    def __init__(self, core: ComputeCore) -> None:
        self.core = core

    @property
    def images(self) -> ImageService:
        return self.core.neighbours.require(self.core.neighbours.image, "image")

    def list(self, ctx: RequestContext, params: Sequence[tuple[str, str]]) -> list[ImageRecord]:
        query: list[tuple[str, str]] = []
        at_least: dict[str, int] = {}
        for key, value in params:
            if key in IMAGE_FILTERS:
                query.append((IMAGE_FILTERS[key], value.lower() if key == "status" else value))
            elif key == "server":
                # a server's id or URL: Nova keeps what follows the last slash
                query.append(("instance_uuid", value.rsplit("/", 1)[-1]))
            elif key.startswith("property-") and len(key) > len("property-"):
                query.append((key[len("property-") :], value))
            elif key == "changes-since":
                query.append(("updated_at", "gte:" + _timestamp(value, key)))
            elif key in ("minDisk", "minRam"):
                at_least["min_disk" if key == "minDisk" else "min_ram"] = _integer(value, key)
            elif key == "limit":
                query.append(("limit", str(_integer(value, key))))
            elif key == "marker":
                query.append(("marker", value))
        return self.images.list_images(ctx, query, at_least=at_least)

    def get(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        return self.images.get_image(ctx, image_id)

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        self.images.delete_image(ctx, image_id)

    def metadata(self, ctx: RequestContext, image_id: str) -> dict[str, str]:
        return dict(self.images.get_image(ctx, image_id).properties)

    def metadata_item(self, ctx: RequestContext, image_id: str, key: str) -> str:
        meta = self.metadata(ctx, image_id)
        if key not in meta:
            raise MetadataItemNotFound()
        return meta[key]

    def set_metadata(
        self, ctx: RequestContext, image_id: str, items: dict[str, Any], replace: bool
    ) -> dict[str, str]:
        """Merge ``items`` into the image's metadata, or replace it with them."""
        current = self.metadata(ctx, image_id)
        items = {str(k): str(v) for k, v in items.items()}
        merged = dict(items) if replace else {**current, **items}
        with self.core.db.reader() as session:
            limit = self.core.quota.limits(session, ctx.project_id or "")["metadata_items"]
        if 0 <= limit < len(merged):
            raise QuotaExceeded(
                resource="metadata_items", requested=len(merged), used=0, limit=limit
            )
        remove = [k for k in current if k not in merged] if replace else []
        record = self.images.update_image_properties(ctx, image_id, items, remove)
        return dict(record.properties)

    def delete_metadata_item(self, ctx: RequestContext, image_id: str, key: str) -> None:
        if key not in self.metadata(ctx, image_id):
            raise MetadataItemNotFound()
        self.images.update_image_properties(ctx, image_id, {}, [key])


class NetworkProxy:
    """``os-security-groups``, ``os-security-group-rules``, ``os-floating-ips``,
    ``os-floating-ip-pools``, ``os-networks`` and ``os-tenant-networks``."""

    def __init__(self, core: ComputeCore) -> None:
        self.core = core

    @property
    def network(self) -> NetworkProxyService:
        return self.core.neighbours.require(self.core.neighbours.network_proxy, "network")

    @property
    def ports(self) -> NetworkService:
        return self.core.neighbours.require(self.core.neighbours.network, "network")

    # -- networks ---------------------------------------------------------------

    def networks(self, ctx: RequestContext, rule: str) -> list[NetworkInfo]:
        self.core.enforce(ctx, rule, ctx.project_id)
        return self.network.list_networks(ctx)

    def network_info(self, ctx: RequestContext, rule: str, network_id: str) -> NetworkInfo:
        self.core.enforce(ctx, rule, ctx.project_id)
        found = [n for n in self.network.list_networks(ctx) if n.id == network_id]
        if not found:
            raise NotFound(f"Network {network_id} could not be found.")
        return found[0]

    def pools(self, ctx: RequestContext) -> list[NetworkInfo]:
        self.core.enforce(ctx, "os-floating-ip-pools", ctx.project_id)
        return [n for n in self.network.list_networks(ctx) if n.external]

    # -- security groups --------------------------------------------------------

    def groups(self, ctx: RequestContext, all_projects: bool) -> list[SecurityGroupRecord]:
        self.core.enforce(ctx, "os-security-groups:get", ctx.project_id)
        project = None if all_projects and ctx.is_admin else ctx.project_id
        return self.network.list_security_groups(ctx, project)

    def group(self, ctx: RequestContext, group_id: str) -> SecurityGroupRecord:
        self.core.enforce(ctx, "os-security-groups:show", ctx.project_id)
        return self.network.get_security_group(ctx, group_id)

    def create_group(self, ctx: RequestContext, body: Any) -> SecurityGroupRecord:
        self.core.enforce(ctx, "os-security-groups:create", ctx.project_id)
        name, description = _group_fields(body)
        return _nova_errors(lambda: self.network.create_security_group(ctx, name, description))

    def update_group(self, ctx: RequestContext, group_id: str, body: Any) -> SecurityGroupRecord:
        self.core.enforce(ctx, "os-security-groups:update", ctx.project_id)
        name, description = _group_fields(body)
        return _nova_errors(
            lambda: self.network.update_security_group(ctx, group_id, name, description)
        )

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        self.core.enforce(ctx, "os-security-groups:delete", ctx.project_id)
        group = self.network.get_security_group(ctx, group_id)
        if group.name == "default":
            raise BadRequest("Unable to delete system group 'default'")
        _nova_errors(lambda: self.network.delete_security_group(ctx, group_id))

    def server_groups(self, ctx: RequestContext, instance_id: str) -> list[SecurityGroupRecord]:
        """The groups of the server's ports (the caller saw the server already)."""
        self.core.enforce(ctx, "os-security-groups:list", ctx.project_id)
        ids: list[str] = []
        for port in self.ports.get_instance_nw_info(ctx, instance_id):
            ids.extend(g for g in port.security_groups if g not in ids)
        return [self.network.get_security_group(ctx, g) for g in ids]

    def group_names(self, ctx: RequestContext) -> dict[str, SecurityGroupRecord]:
        """Every group the caller sees, by id (the ``group`` of a rule names its source)."""
        return {g.id: g for g in self.network.list_security_groups(ctx, None)}

    def create_rule(self, ctx: RequestContext, body: Any) -> SecurityGroupRuleRecord:
        self.core.enforce(ctx, "os-security-groups:rule:create", ctx.project_id)
        if not isinstance(body, dict) or not isinstance(body.get("security_group_rule"), dict):
            raise BadRequest("Missing parameter dict")
        rule = body["security_group_rule"]
        parent = rule.get("parent_group_id")
        if not isinstance(parent, str | int) or isinstance(parent, bool):
            raise BadRequest("Security group id should be a string.")
        if not _is_uuid(str(parent)):  # Nova's validate_id with Neutron's UUIDs
            raise BadRequest("Security group id should be uuid")
        self.network.get_security_group(ctx, str(parent))  # 404 first, as Nova
        source = rule.get("group_id")
        if source is not None:
            self.network.get_security_group(ctx, str(source))
        args = _rule_args(rule, source)
        return _nova_errors(
            lambda: self.network.create_security_group_rule(ctx, str(parent), **args)
        )

    def delete_rule(self, ctx: RequestContext, rule_id: str) -> None:
        self.core.enforce(ctx, "os-security-groups:rule:delete", ctx.project_id)
        _nova_errors(lambda: self.network.delete_security_group_rule(ctx, rule_id))

    # -- floating IPs -------------------------------------------------------------

    def floating_ips(self, ctx: RequestContext) -> list[FloatingIPRecord]:
        self.core.enforce(ctx, "os-floating-ips:list", ctx.project_id)
        return self.network.list_floating_ips(ctx)

    def floating_ip(self, ctx: RequestContext, fip_id: str) -> FloatingIPRecord:
        self.core.enforce(ctx, "os-floating-ips:show", ctx.project_id)
        try:
            return self.network.get_floating_ip(ctx, fip_id)
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def allocate(self, ctx: RequestContext, pool: str | None) -> FloatingIPRecord:
        """A floating IP from ``pool`` (an external network's name or id; without one,
        the first external network by name, where Nova takes its configured default)."""
        self.core.enforce(ctx, "os-floating-ips:create", ctx.project_id)
        external = [n for n in self.network.list_networks(ctx) if n.external]
        if pool is None:
            chosen = external[:1]
        else:
            chosen = [n for n in external if n.name == pool] or [
                n for n in external if n.id == pool
            ]
        if not chosen:
            raise NotFound("Floating IP pool not found.")
        try:
            return self.network.create_floating_ip(ctx, chosen[0].id)
        except BadRequest:
            raise NotFound(f"No more floating IPs in pool {chosen[0].name}.") from None
        except Conflict:
            raise Forbidden(f"IP allocation over quota in pool {chosen[0].name}.") from None

    def release(self, ctx: RequestContext, fip_id: str) -> None:
        self.core.enforce(ctx, "os-floating-ips:delete", ctx.project_id)
        try:
            self.network.delete_floating_ip(ctx, fip_id)
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def associate(self, ctx: RequestContext, instance_id: str, address: Any, fixed: Any) -> None:
        """The ``addFloatingIp`` server action (the caller saw the server already)."""
        self.core.enforce(ctx, "os-floating-ips:add", ctx.project_id)
        if not isinstance(address, str) or not address:
            raise BadRequest("Invalid input for field/attribute address.")
        if fixed is not None and not isinstance(fixed, str):
            raise BadRequest("Invalid input for field/attribute fixed_address.")
        ports = self.ports.get_instance_nw_info(ctx, instance_id)
        fixed_ips = [(p.id, ip.address) for p in ports for ip in p.fixed_ips]
        if not fixed_ips:
            raise BadRequest("No fixed IPs associated to instance")
        if fixed is not None:
            match = [f for f in fixed_ips if f[1] == fixed]
            if not match:
                raise BadRequest("Specified fixed address not assigned to instance")
        else:
            match = [f for f in fixed_ips if ipaddress.ip_address(f[1]).version == 4]
            if not match:
                raise BadRequest(
                    f"Unable to associate floating IP {address} to any fixed IPs for "
                    f"instance {instance_id}. Instance has no fixed IPv4 addresses to "
                    "associate."
                )
        try:
            fip = self.network.find_floating_ip(ctx, address)
        except NotFound:
            raise NotFound("floating IP not found") from None
        try:
            self.network.associate_floating_ip(ctx, fip.id, match[0][0], match[0][1])
        except (BadRequest, Conflict, NotFound) as exc:
            raise BadRequest(
                f"Unable to associate floating IP {address} to fixed IP {match[0][1]} for "
                f"instance {instance_id}. Error: {exc.message}"
            ) from None

    def disassociate(self, ctx: RequestContext, instance_id: str, address: Any) -> None:
        """The ``removeFloatingIp`` server action."""
        self.core.enforce(ctx, "os-floating-ips:remove", ctx.project_id)
        if not isinstance(address, str) or not address:
            raise BadRequest("Invalid input for field/attribute address.")
        try:
            fip = self.network.find_floating_ip(ctx, address)
        except NotFound:
            raise NotFound("floating IP not found") from None
        if fip.instance_id != instance_id:
            raise Conflict(f"Floating IP {address} is not associated with instance {instance_id}.")
        self.network.associate_floating_ip(ctx, fip.id, None, None)


def _nova_errors(call: Any) -> Any:
    """Neutron's 409 (a duplicate rule, a group in use, a default group) is Nova's 400."""
    try:
        return call()
    except Conflict as exc:
        raise BadRequest(exc.message) from None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _group_fields(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("security_group"), dict):
        raise BadRequest("Missing parameter dict")
    group = body["security_group"]
    values = []
    for prop in ("name", "description"):
        value = group.get(prop)
        if not isinstance(value, str):
            raise BadRequest(f"Security group {prop} is not a string or unicode")
        if not value.strip():  # blank is refused; the name is kept as given, as Nova does
            raise BadRequest(f"{prop} has a minimum character requirement of 1.")
        if len(value) > 255:
            raise BadRequest(f"{prop} has more than 255 characters.")
        values.append(value)
    return values[0], values[1]


def _rule_args(rule: dict[str, Any], source: Any) -> dict[str, Any]:
    """Nova's rule (``ip_protocol``, ``from_port``, ``to_port``, ``cidr`` or a source
    ``group_id``) as Neutron's ingress rule."""
    protocol = rule.get("ip_protocol")
    from_port: Any = rule.get("from_port")
    to_port: Any = rule.get("to_port")
    prefix: str | None = None
    ethertype = "IPv4"
    if source is None:
        cidr = rule.get("cidr") or "0.0.0.0/0"
        try:
            network = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            raise BadRequest(f"Invalid cidr {cidr}.") from None
        prefix, ethertype = str(cidr), f"IPv{network.version}"  # as given, as Nova sends it
    complete = protocol is not None and from_port is not None and to_port is not None
    if not complete:
        if source is None or protocol is not None or from_port is not None or to_port is not None:
            raise BadRequest("Not enough parameters to build a valid rule.")
        return {
            "ethertype": ethertype, "protocol": None, "port_range_min": None,
            "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": str(source),
        }  # fmt: skip
    kind = str(protocol).upper()
    if isinstance(from_port, bool) or isinstance(to_port, bool):
        raise BadRequest("To and From ports must be integers")
    try:
        low, high = int(from_port), int(to_port)
    except (TypeError, ValueError):
        if kind == "ICMP":
            raise BadRequest("Type and Code must be integers for ICMP protocol type") from None
        raise BadRequest("To and From ports must be integers") from None
    if kind not in ("TCP", "UDP", "ICMP"):
        raise BadRequest(f"Invalid IP protocol {protocol}.")
    if kind in ("TCP", "UDP") and low > high:
        raise BadRequest(
            f"Invalid port range {low}:{high}. Former value cannot be greater than the later"
        )
    if kind in ("TCP", "UDP") and (low < 1 or high > 65535):
        raise BadRequest(
            f"Invalid port range {low}:{high}. Valid {kind} ports should be between 1-65535"
        )
    if kind == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
        raise BadRequest(f"Invalid port range {low}:{high}. For ICMP, the type:code must be valid")
    return {
        "ethertype": ethertype,
        "protocol": kind.lower(),
        "port_range_min": None if low == -1 else low,
        "port_range_max": None if high == -1 else high,
        "remote_ip_prefix": prefix,
        "remote_group_id": None if source is None else str(source),
    }


def _integer(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if number < 0:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.")
    return number


def _timestamp(value: str, name: str) -> str:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
