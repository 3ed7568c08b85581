"""Security groups and their rules, with each project's ``default`` group."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.attrs import as_bool, as_str, as_uuid, check_known, invalid, new_id
from onestack.network.collection import Collection
from onestack.network.core import NetworkCore
from onestack.network.exceptions import (
    HTTPBadRequest,
    InvalidInput,
    SecurityGroupCannotRemoveDefault,
    SecurityGroupCannotUpdateDefault,
    SecurityGroupDefaultAlreadyExists,
    SecurityGroupInUse,
    SecurityGroupInvalidIcmpValue,
    SecurityGroupInvalidPortRange,
    SecurityGroupInvalidPortValue,
    SecurityGroupMissingIcmpType,
    SecurityGroupNotFound,
    SecurityGroupRuleExists,
    SecurityGroupRuleInvalidProtocol,
    SecurityGroupRuleNotFound,
)
from onestack.network.listing import ListSpec, Page
from onestack.network.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)

SG_ATTRS = {"name", "description", "project_id", "tenant_id", "stateful"}
RULE_ATTRS = {
    "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
    "port_range_max", "remote_ip_prefix", "remote_group_id", "remote_address_group_id",
    "description", "project_id", "tenant_id", "normalized_cidr",
}  # fmt: skip
PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1, "icmpv6": 58,
    "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}  # fmt: skip
PORT_PROTOCOLS = ("tcp", "udp", "dccp", "sctp", "udplite", "6", "17", "33", "132", "136")

SG_LIST = ListSpec(
    SecurityGroup,
    {
        "id": SecurityGroup.id, "name": SecurityGroup.name,
        "description": SecurityGroup.description, "project_id": SecurityGroup.project_id,
        "tenant_id": SecurityGroup.project_id, "stateful": SecurityGroup.stateful,
        "revision_number": SecurityGroup.revision_number,
        "created_at": SecurityGroup.created_at, "updated_at": SecurityGroup.updated_at,
    },
    booleans=frozenset({"stateful"}),
)  # fmt: skip
R = SecurityGroupRule
RULE_LIST = ListSpec(
    SecurityGroupRule,
    {
        "id": R.id, "project_id": R.project_id, "tenant_id": R.project_id,
        "security_group_id": R.security_group_id, "direction": R.direction,
        "ethertype": R.ethertype, "protocol": R.protocol, "port_range_min": R.port_range_min,
        "port_range_max": R.port_range_max, "remote_ip_prefix": R.remote_ip_prefix,
        "remote_group_id": R.remote_group_id, "description": R.description,
        "revision_number": R.revision_number, "created_at": R.created_at,
        "updated_at": R.updated_at,
    },
    integers=frozenset({"port_range_min", "port_range_max", "revision_number"}),
)  # fmt: skip


def _rule(group: SecurityGroup, direction: str, ethertype: str, remote: str | None) -> R:
    return R(
        id=new_id(), project_id=group.project_id, security_group_id=group.id,
        direction=direction, ethertype=ethertype, remote_group_id=remote,
    )  # fmt: skip


class SecurityGroups(Collection[SecurityGroup]):
    #: a new group has no ports yet: nothing to apply
    wakes_agent = False
    resource = "security_group"
    spec = SG_LIST

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.security_groups_visible(ctx)

    def _prepare(self, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]) -> None:
        self.prepare_default_groups(ctx, bodies)

    def prepare_default_groups(
        self, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]
    ) -> None:
        """Make the caller's project's default group before a create's transaction
        (as listing its groups would), so that concurrent first creates do not collide.
        Only for the caller's own project: a body naming another project, which the
        create may yet refuse, leaves nothing behind (the create's own transaction
        makes that project's group when it needs it)."""
        for body in bodies:
            project = body.get("project_id") or body.get("tenant_id") or ctx.project_id
            if isinstance(project, str) and project == ctx.project_id:
                self.ensure_default_group(project)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.security_group(session, ctx, item_id)

    def default_group(self, session: Session, project: str) -> SecurityGroup:
        row = session.get(DefaultSecurityGroup, project)
        if row is not None:
            group = session.get(SecurityGroup, row.security_group_id)
            if group is not None:
                return group
        group = SecurityGroup(
            id=new_id(), project_id=project, name="default",
            description="Default security group",
        )  # fmt: skip
        session.add(group)
        session.flush()
        for ethertype in ("IPv4", "IPv6"):
            session.add(_rule(group, "egress", ethertype, None))
            session.add(_rule(group, "ingress", ethertype, group.id))
        session.add(DefaultSecurityGroup(project_id=project, security_group_id=group.id))
        session.flush()
        session.refresh(group)
        return group

    def ensure_default_group(self, project: str) -> None:
        if not project:
            return
        with self.core.db.reader() as session:
            if session.get(DefaultSecurityGroup, project) is not None:
                return
        try:
            with self.core.db.writer() as session:
                self.default_group(session, project)
        except IntegrityError:
            # another request (another API worker or controller) made it first: theirs
            # stands, and the whole transaction that would have made a second is gone
            with self.core.db.reader() as session:
                if session.get(DefaultSecurityGroup, project) is None:
                    raise

    def _create(
        self, session: Session, ctx: RequestContext, body: Mapping[str, Any]
    ) -> SecurityGroup:
        check_known(body, SG_ATTRS)
        project = self.core.owner_for_create(ctx, body)
        self.core.enforce(ctx, "create_security_group", {"project_id": project})
        name = as_str("name", body.get("name", ""), allow_none=True)
        if name == "default":
            raise SecurityGroupDefaultAlreadyExists()
        self.default_group(session, project)
        self.core.check_quota(session, project, "security_group")
        group = SecurityGroup(
            id=new_id(), project_id=project, name=name,
            description=as_str("description", body.get("description", ""), allow_none=True),
            stateful=as_bool("stateful", body.get("stateful", True)),
        )  # fmt: skip
        session.add(group)
        session.flush()
        for ethertype in ("IPv4", "IPv6"):
            session.add(_rule(group, "egress", ethertype, None))
        session.flush()
        session.refresh(group)
        group.tag_list = []
        return group

    def list_page(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        self.ensure_default_group(ctx.project_id or "")
        return super().list_page(ctx, query)

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> SecurityGroup:
        check_known(body, {"name", "description", "stateful"})
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            if "name" in body:
                name = as_str("name", body["name"], allow_none=True)
                if name == "default":
                    raise SecurityGroupDefaultAlreadyExists()
                if row.name == "default":
                    raise SecurityGroupCannotUpdateDefault()
                row.name = name
            if "description" in body:
                row.description = as_str("description", body["description"], allow_none=True)
            if "stateful" in body:
                row.stateful = as_bool("stateful", body["stateful"])
            self.core.bump(row)
            session.flush()
            self.core.with_tags(session, [row])
        self.core.changed()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            default = session.get(DefaultSecurityGroup, row.project_id)
            if default is not None and default.security_group_id == row.id and not ctx.is_admin:
                raise SecurityGroupCannotRemoveDefault()
            in_use = session.scalar(
                select(PortSecurityGroup.port_id).where(
                    PortSecurityGroup.security_group_id == row.id
                )
            )
            if in_use:
                raise SecurityGroupInUse(id=row.id)
            for rule in session.scalars(select(R).where(R.remote_group_id == row.id)):
                session.delete(rule)
            if default is not None and default.security_group_id == row.id:
                session.delete(default)
            self.core.delete_tags(session, row.id)
            session.delete(row)
        self.core.changed()


class SecurityGroupRules(Collection[SecurityGroupRule]):
    resource = "security_group_rule"

    spec = RULE_LIST

    def __init__(self, core: NetworkCore, groups: SecurityGroups) -> None:
        super().__init__(core)
        self.groups = groups

    def _decorate(self, session: Session, rows: Sequence[Any]) -> None:
        """Rules have no tags."""

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        row = session.scalar(self._visible(ctx).where(R.id == item_id))
        if row is None:
            raise SecurityGroupRuleNotFound(id=item_id)
        return row

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(R)
        if not self.core.sees_all(ctx):
            own_groups = select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id)
            stmt = stmt.where(
                (R.project_id == ctx.project_id) | R.security_group_id.in_(own_groups)
            )
        return stmt

    def _create(
        self, session: Session, ctx: RequestContext, body: Mapping[str, Any]
    ) -> SecurityGroupRule:
        check_known(body, RULE_ATTRS)
        if "security_group_id" not in body:
            raise invalid("security_group_id", "'security_group_id' is a required attribute")
        group_id = as_uuid("security_group_id", body["security_group_id"])
        group = self.core.security_group(session, ctx, group_id)
        self.core.enforce(ctx, "create_security_group_rule", {"project_id": group.project_id})
        rule = self._validated_rule(session, ctx, group, body)
        # a query, not group.rules: an earlier item of a bulk create counts too
        for other in session.scalars(select(R).where(R.security_group_id == group.id)):
            if _same(other, rule):
                raise SecurityGroupRuleExists(rule_id=other.id)
        self.core.check_quota(session, group.project_id, "security_group_rule")
        session.add(rule)
        self.core.bump(group)
        session.flush()
        return rule

    def _validated_rule(
        self, session: Session, ctx: RequestContext, group: SecurityGroup, body: Mapping[str, Any]
    ) -> SecurityGroupRule:
        direction = body.get("direction")
        if direction not in ("ingress", "egress"):
            raise invalid("direction", f"'{direction}' is not in ['ingress', 'egress']")
        ethertype = body.get("ethertype") or "IPv4"
        if ethertype not in ("IPv4", "IPv6"):
            raise invalid("ethertype", f"'{ethertype}' is not in ['IPv4', 'IPv6']")
        protocol = body.get("protocol")
        if protocol is not None:
            protocol = str(protocol).lower()
            if protocol in ("any", "0"):
                protocol = None
            elif protocol not in PROTOCOLS and (
                not protocol.isdigit() or not 0 <= int(protocol) <= 255
            ):
                raise SecurityGroupRuleInvalidProtocol(protocol=protocol, values=sorted(PROTOCOLS))
        low = _port_value(body.get("port_range_min"))
        high = _port_value(body.get("port_range_max"))
        if (low is not None or high is not None) and protocol is None:
            raise InvalidInput(error_message="Must also specify protocol if port range is given.")
        if protocol in PORT_PROTOCOLS and (low is not None or high is not None):
            if low == 0 or high == 0:
                raise SecurityGroupInvalidPortValue(port=0)
            if low is not None and high is None:
                high = low
            if low is None or high is None or low > high:
                raise SecurityGroupInvalidPortRange()
        elif protocol in ("icmp", "icmpv6", "ipv6-icmp", "1", "58"):
            for attr, field, value in (
                ("port_range_min", "type", low),
                ("port_range_max", "code", high),
            ):
                if value is not None and not 0 <= value <= 255:
                    raise SecurityGroupInvalidIcmpValue(field=field, attr=attr, value=value)
            if high is not None and low is None:
                raise SecurityGroupMissingIcmpType(value=high)
        prefix = body.get("remote_ip_prefix")
        remote_group = body.get("remote_group_id")
        if prefix is not None and remote_group is not None:
            raise InvalidInput(error_message="Only remote_ip_prefix or remote_group_id may be "
                               "provided.")  # fmt: skip
        if prefix is not None:
            try:
                net = ipaddress.ip_network(str(prefix), strict=False)
            except ValueError:
                raise invalid("remote_ip_prefix", f"'{prefix}' is not a valid IP prefix") from None
            if f"IPv{net.version}" != ethertype:
                raise InvalidInput(
                    error_message=f"Conflicting value ethertype {ethertype} for CIDR {prefix}"
                )
            prefix = str(prefix)  # kept as given; ``normalized_cidr`` shows the network
        if remote_group is not None:
            # Neutron does not validate the format: any unknown id is a 404.
            try:
                remote_group = as_uuid("remote_group_id", remote_group)
            except HTTPBadRequest:
                raise SecurityGroupNotFound(id=remote_group) from None
            self.core.security_group(session, ctx, remote_group)
        return R(
            id=new_id(), project_id=group.project_id, security_group_id=group.id,
            direction=direction, ethertype=ethertype, protocol=protocol, port_range_min=low,
            port_range_max=high, remote_ip_prefix=prefix, remote_group_id=remote_group,
            description=as_str("description", body.get("description", ""), allow_none=True),
        )  # fmt: skip

    def list_page(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        self.groups.ensure_default_group(ctx.project_id or "")
        return super().list_page(ctx, query)

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            group = session.get(SecurityGroup, row.security_group_id)
            if group is not None:
                self.core.bump(group)
            session.delete(row)
        self.core.changed()


def _port_value(value: Any) -> int | None:
    """A port bound as Neutron converts it: an integer 0 to 65535 or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise SecurityGroupInvalidPortValue(port=value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(error_message=f"Invalid value for port {value}") from None
    if not 0 <= number <= 65535:
        raise SecurityGroupInvalidPortValue(port=value)
    return number


def _network(prefix: str | None) -> str | None:
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def _same(a: SecurityGroupRule, b: SecurityGroupRule) -> bool:
    """Neutron's duplicate check: the same rule, prefixes compared as networks."""
    keys = (
        "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
        "remote_group_id",
    )  # fmt: skip
    same_prefix = _network(a.remote_ip_prefix) == _network(b.remote_ip_prefix)
    return same_prefix and all(getattr(a, k) == getattr(b, k) for k in keys)
