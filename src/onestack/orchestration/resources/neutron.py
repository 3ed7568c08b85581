"""Networking resources, through the network API (Neutron v2.0)."""

from __future__ import annotations

from typing import Any, ClassVar

from onestack.orchestration.exceptions import ResourceFailure, ServiceCallFailed, UpdateReplace
from onestack.orchestration.resources.base import Prop
from onestack.orchestration.resources.common import ApiResource, find_id

V = "/v2.0"


async def network_id(resource: ApiResource, value: Any) -> str:
    return await find_id(resource, "network", f"{V}/networks", "network", value)


async def subnet_id(resource: ApiResource, value: Any) -> str:
    return await find_id(resource, "network", f"{V}/subnets", "subnet", value)


async def group_ids(resource: ApiResource, values: list[Any]) -> list[str]:
    return [
        await find_id(resource, "network", f"{V}/security-groups", "security_group", v)
        for v in values
    ]


class NeutronResource(ApiResource):
    service = "network"
    #: properties passed to the API under the same name
    passthrough: ClassVar[tuple[str, ...]] = ()

    async def delete(self) -> None:
        """Delete; a 409 (still in use: ports being released by another service) is tried
        again until the stack's time runs out."""

        async def attempt() -> bool | None:
            try:
                await super(NeutronResource, self).delete()
            except ServiceCallFailed as exc:
                if exc.status == 409:
                    return None
                raise
            return True

        await self.wait_for(
            attempt, what=f"{self.key or self.type_name} {self.physical_id} to be deleted"
        )

    def body(self, props: dict[str, Any], keys: set[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.passthrough:
            if keys is not None and key not in keys:
                continue
            if props.get(key) is not None:
                out[key] = props[key]
        out.update(props.get("value_specs") or {})
        return out


class Net(NeutronResource):
    type_name = "OS::Neutron::Net"
    description = "A network."
    collection = f"{V}/networks"
    key = "network"
    passthrough = ("admin_state_up", "shared", "port_security_enabled", "dns_domain", "mtu")
    properties_schema = {
        "name": Prop("string", "Name of the network.", update_allowed=True),
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "shared": Prop("boolean", update_allowed=True),
        "port_security_enabled": Prop("boolean", update_allowed=True),
        "dns_domain": Prop("string", update_allowed=True),
        "mtu": Prop("integer", update_allowed=True),
        "tenant_id": Prop("string", "The project (administrators only)."),
        "value_specs": Prop("map", default={}, update_allowed=True),
        "tags": Prop("list", update_allowed=True),
        "qos_policy": Prop("string", update_allowed=True),
        "segments": Prop("list"),
    }
    attributes_schema = {
        "name": "",
        "status": "",
        "subnets": "",
        "admin_state_up": "",
        "tenant_id": "",
        "mtu": "",
        "port_security_enabled": "",
        "segments": "",
        "l2_adjacency": "",
    }

    async def create(self) -> None:
        body = self.body(self.properties)
        body["name"] = self.properties.get("name") or self.physical_name()
        if self.properties.get("tenant_id"):
            body["tenant_id"] = self.properties["tenant_id"]
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = self.body(new, changed)
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        body.pop("mtu", None) if "mtu" not in changed else None
        if body:
            await self.put(body)
        self.properties = new


class Subnet(NeutronResource):
    type_name = "OS::Neutron::Subnet"
    description = "A subnet of a network."
    collection = f"{V}/subnets"
    key = "subnet"
    passthrough = (
        "cidr",
        "ip_version",
        "gateway_ip",
        "enable_dhcp",
        "dns_nameservers",
        "allocation_pools",
        "host_routes",
        "ipv6_address_mode",
        "ipv6_ra_mode",
        "prefixlen",
    )
    properties_schema = {
        "network": Prop("string", "The network (name or id).", constraint="neutron.network"),
        "network_id": Prop("string", "Deprecated: use network."),
        "cidr": Prop("string", "The CIDR."),
        "ip_version": Prop("integer", default=4, allowed=(4, 6)),
        "name": Prop("string", update_allowed=True),
        "gateway_ip": Prop("string", update_allowed=True),
        "enable_dhcp": Prop("boolean", default=True, update_allowed=True),
        "dns_nameservers": Prop("list", default=[], update_allowed=True),
        "allocation_pools": Prop(
            "list",
            update_allowed=True,
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "start": Prop("string", required=True),
                        "end": Prop("string", required=True),
                    },
                )
            },
        ),
        "host_routes": Prop("list", update_allowed=True),
        "ipv6_address_mode": Prop(
            "string", allowed=("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
        ),
        "ipv6_ra_mode": Prop("string", allowed=("dhcpv6-stateful", "dhcpv6-stateless", "slaac")),
        "subnetpool": Prop("string"),
        "prefixlen": Prop("integer"),
        "tenant_id": Prop("string"),
        "value_specs": Prop("map", default={}, update_allowed=True),
        "tags": Prop("list", update_allowed=True),
        "segment": Prop("string"),
    }
    attributes_schema = {
        "name": "",
        "network_id": "",
        "tenant_id": "",
        "allocation_pools": "",
        "gateway_ip": "",
        "host_routes": "",
        "ip_version": "",
        "cidr": "",
        "dns_nameservers": "",
        "enable_dhcp": "",
    }

    async def create(self) -> None:
        body = self.body(self.properties)
        body["name"] = self.properties.get("name") or self.physical_name()
        net = self.properties.get("network") or self.properties.get("network_id")
        body["network_id"] = await network_id(self, net)
        if self.properties.get("subnetpool"):
            body["subnetpool_id"] = await find_id(
                self, "network", f"{V}/subnetpools", "subnetpool", self.properties["subnetpool"]
            )
        if self.properties.get("tenant_id"):
            body["tenant_id"] = self.properties["tenant_id"]
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = self.body(new, changed)
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if body:
            await self.put(body)
        self.properties = new


class Port(NeutronResource):
    type_name = "OS::Neutron::Port"
    description = "A port on a network."
    collection = f"{V}/ports"
    key = "port"
    passthrough = (
        "admin_state_up",
        "mac_address",
        "device_id",
        "device_owner",
        "allowed_address_pairs",
        "port_security_enabled",
    )
    properties_schema = {
        "network": Prop("string", "The network (name or id).", constraint="neutron.network"),
        "network_id": Prop("string", "Deprecated: use network."),
        "name": Prop("string", update_allowed=True),
        "fixed_ips": Prop(
            "list",
            update_allowed=True,
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "subnet": Prop("string"),
                        "subnet_id": Prop("string"),
                        "ip_address": Prop("string"),
                    },
                )
            },
        ),
        "security_groups": Prop("list", update_allowed=True),
        "mac_address": Prop("string"),
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "device_id": Prop("string", update_allowed=True),
        "device_owner": Prop("string", update_allowed=True),
        "allowed_address_pairs": Prop("list", update_allowed=True),
        "port_security_enabled": Prop("boolean", update_allowed=True),
        "replacement_policy": Prop("string", default="AUTO", allowed=("REPLACE_ALWAYS", "AUTO")),
        "value_specs": Prop("map", default={}, update_allowed=True),
        "binding:vnic_type": Prop("string"),
        "qos_policy": Prop("string"),
        "tags": Prop("list", update_allowed=True),
        "dns_name": Prop("string", update_allowed=True),
    }
    attributes_schema = {
        "name": "",
        "network_id": "",
        "fixed_ips": "",
        "mac_address": "",
        "device_id": "",
        "device_owner": "",
        "status": "",
        "security_groups": "",
        "admin_state_up": "",
        "allowed_address_pairs": "",
        "subnets": "",
        "tenant_id": "",
    }

    async def _fixed_ips(self, entries: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if entries is None:
            return None
        out = []
        for entry in entries:
            item: dict[str, Any] = {}
            subnet = entry.get("subnet") or entry.get("subnet_id")
            if subnet:
                item["subnet_id"] = await subnet_id(self, subnet)
            if entry.get("ip_address"):
                item["ip_address"] = entry["ip_address"]
            out.append(item)
        return out

    async def create(self) -> None:
        body = self.body(self.properties)
        body["name"] = self.properties.get("name") or self.physical_name()
        net = self.properties.get("network") or self.properties.get("network_id")
        body["network_id"] = await network_id(self, net)
        fixed = await self._fixed_ips(self.properties.get("fixed_ips"))
        if fixed is not None:
            body["fixed_ips"] = fixed
        if self.properties.get("security_groups") is not None:
            body["security_groups"] = await group_ids(self, self.properties["security_groups"])
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = self.body(new, changed)
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if "fixed_ips" in changed:
            body["fixed_ips"] = await self._fixed_ips(new.get("fixed_ips")) or []
        if "security_groups" in changed:
            body["security_groups"] = await group_ids(self, new.get("security_groups") or [])
        if body:
            await self.put(body)
        self.properties = new

    async def refresh(self) -> None:
        await super().refresh()
        if "fixed_ips" in self.attrs:
            self.attrs["subnets"] = [ip.get("subnet_id") for ip in self.attrs["fixed_ips"]]


class Router(NeutronResource):
    type_name = "OS::Neutron::Router"
    description = "A router, with an optional gateway to an external network."
    collection = f"{V}/routers"
    key = "router"
    properties_schema = {
        "name": Prop("string", update_allowed=True),
        "external_gateway_info": Prop(
            "map",
            update_allowed=True,
            schema={
                "network": Prop("string", required=True, constraint="neutron.network"),
                "enable_snat": Prop("boolean"),
                "external_fixed_ips": Prop("list"),
            },
        ),
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "distributed": Prop("boolean"),
        "ha": Prop("boolean"),
        "l3_agent_ids": Prop("list"),
        "value_specs": Prop("map", default={}, update_allowed=True),
        "tags": Prop("list", update_allowed=True),
    }
    attributes_schema = {
        "name": "",
        "status": "",
        "external_gateway_info": "",
        "admin_state_up": "",
        "tenant_id": "",
    }

    async def _gateway(self, info: dict[str, Any] | None) -> dict[str, Any] | None:
        if not info:
            return None
        gateway: dict[str, Any] = {"network_id": await network_id(self, info["network"])}
        if info.get("enable_snat") is not None:
            gateway["enable_snat"] = info["enable_snat"]
        if info.get("external_fixed_ips"):
            gateway["external_fixed_ips"] = info["external_fixed_ips"]
        return gateway

    async def create(self) -> None:
        body: dict[str, Any] = dict(self.properties.get("value_specs") or {})
        body["name"] = self.properties.get("name") or self.physical_name()
        body["admin_state_up"] = self.properties.get("admin_state_up", True)
        for key in ("distributed", "ha"):
            if self.properties.get(key) is not None:
                body[key] = self.properties[key]
        gateway = await self._gateway(self.properties.get("external_gateway_info"))
        if gateway:
            body["external_gateway_info"] = gateway
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if "admin_state_up" in changed:
            body["admin_state_up"] = new.get("admin_state_up")
        if "external_gateway_info" in changed:
            body["external_gateway_info"] = (
                await self._gateway(new.get("external_gateway_info")) or {}
            )
        if body:
            await self.put(body)
        self.properties = new

    async def delete(self) -> None:
        if not self.physical_id:
            return
        current = await self.show()
        if current is not None and current.get("external_gateway_info"):
            await self.cloud.request(
                "network", "PUT", self.member(), json_body={"router": {"external_gateway_info": {}}}
            )
        await super().delete()


class RouterInterface(NeutronResource):
    type_name = "OS::Neutron::RouterInterface"
    description = "A subnet or port attached to a router."
    properties_schema = {
        "router": Prop("string", "The router.", constraint="neutron.router"),
        "router_id": Prop("string", "Deprecated: use router."),
        "subnet": Prop("string", "The subnet.", constraint="neutron.subnet"),
        "subnet_id": Prop("string", "Deprecated: use subnet."),
        "port": Prop("string", "The port."),
        "port_id": Prop("string", "Deprecated: use port."),
    }

    async def create(self) -> None:
        router = await find_id(
            self,
            "network",
            f"{V}/routers",
            "router",
            self.properties.get("router") or self.properties.get("router_id"),
        )
        subnet = self.properties.get("subnet") or self.properties.get("subnet_id")
        port = self.properties.get("port") or self.properties.get("port_id")
        if bool(subnet) == bool(port):
            raise ResourceFailure("Exactly one of subnet or port is required.")
        if subnet:
            ident = await subnet_id(self, subnet)
            body = {"subnet_id": ident}
            self.physical_id = f"{router}:subnet_id={ident}"
        else:
            ident = await find_id(self, "network", f"{V}/ports", "port", port)
            body = {"port_id": ident}
            self.physical_id = f"{router}:port_id={ident}"
        await self.cloud.request(
            "network", "PUT", f"{V}/routers/{router}/add_router_interface", json_body=body
        )

    async def delete(self) -> None:
        if not self.physical_id or ":" not in self.physical_id:
            return
        router, _, spec = self.physical_id.partition(":")
        key, _, ident = spec.partition("=")
        try:
            await self.cloud.request(
                "network",
                "PUT",
                f"{V}/routers/{router}/remove_router_interface",
                json_body={key: ident},
                missing_ok=True,
            )
        except ServiceCallFailed as exc:
            if exc.status != 404:
                raise

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if new != old:
            raise UpdateReplace("subnet")


class FloatingIP(NeutronResource):
    type_name = "OS::Neutron::FloatingIP"
    description = "A floating IP address, optionally associated with a port."
    collection = f"{V}/floatingips"
    key = "floatingip"
    properties_schema = {
        "floating_network": Prop("string", "The external network.", constraint="neutron.network"),
        "floating_network_id": Prop("string", "Deprecated: use floating_network."),
        "port_id": Prop("string", "The port to associate.", update_allowed=True),
        "fixed_ip_address": Prop("string", update_allowed=True),
        "floating_ip_address": Prop("string"),
        "floating_subnet": Prop("string"),
        "dns_name": Prop("string"),
        "dns_domain": Prop("string"),
        "value_specs": Prop("map", default={}),
    }
    attributes_schema = {
        "floating_ip_address": "",
        "floating_network_id": "",
        "port_id": "",
        "fixed_ip_address": "",
        "router_id": "",
        "tenant_id": "",
    }

    async def create(self) -> None:
        net = self.properties.get("floating_network") or self.properties.get("floating_network_id")
        body: dict[str, Any] = dict(self.properties.get("value_specs") or {})
        body["floating_network_id"] = await network_id(self, net)
        for key in ("port_id", "fixed_ip_address", "floating_ip_address"):
            if self.properties.get(key):
                body[key] = self.properties[key]
        if self.properties.get("floating_subnet"):
            body["subnet_id"] = await subnet_id(self, self.properties["floating_subnet"])
        await self.post(body)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = {"port_id": new.get("port_id") or None}
        if new.get("fixed_ip_address"):
            body["fixed_ip_address"] = new["fixed_ip_address"]
        await self.put(body)
        self.properties = new

    async def adopt_by_name(self) -> str | None:
        return None


class FloatingIPAssociation(NeutronResource):
    type_name = "OS::Neutron::FloatingIPAssociation"
    description = "Associates a floating IP with a port."
    properties_schema = {
        "floatingip_id": Prop("string", "The floating IP.", required=True, update_allowed=True),
        "port_id": Prop("string", "The port.", required=True, update_allowed=True),
        "fixed_ip_address": Prop("string", update_allowed=True),
    }

    async def _associate(self, props: dict[str, Any]) -> None:
        body: dict[str, Any] = {"port_id": props["port_id"]}
        if props.get("fixed_ip_address"):
            body["fixed_ip_address"] = props["fixed_ip_address"]
        await self.cloud.request(
            "network",
            "PUT",
            f"{V}/floatingips/{props['floatingip_id']}",
            json_body={"floatingip": body},
        )

    async def create(self) -> None:
        await self._associate(self.properties)
        self.physical_id = f"{self.properties['floatingip_id']}:{self.properties['port_id']}"

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        if new["floatingip_id"] != old.get("floatingip_id"):
            await self.delete()
        await self._associate(new)
        self.properties = new
        self.physical_id = f"{new['floatingip_id']}:{new['port_id']}"

    async def delete(self) -> None:
        fip = (self.physical_id or "").partition(":")[0] or self.properties.get("floatingip_id")
        if not fip:
            return
        await self.cloud.request(
            "network",
            "PUT",
            f"{V}/floatingips/{fip}",
            json_body={"floatingip": {"port_id": None}},
            missing_ok=True,
        )


_RULE = Prop(
    "map",
    schema={
        "direction": Prop("string", default="ingress", allowed=("ingress", "egress")),
        "ethertype": Prop("string", default="IPv4", allowed=("IPv4", "IPv6")),
        "port_range_min": Prop("integer", min=0, max=65535),
        "port_range_max": Prop("integer", min=0, max=65535),
        "protocol": Prop("string"),
        "remote_mode": Prop(
            "string", default="remote_ip_prefix", allowed=("remote_ip_prefix", "remote_group_id")
        ),
        "remote_ip_prefix": Prop("string"),
        "remote_group_id": Prop("string"),
        "description": Prop("string"),
    },
)


class SecurityGroup(NeutronResource):
    type_name = "OS::Neutron::SecurityGroup"
    description = "A security group and its rules."
    collection = f"{V}/security-groups"
    key = "security_group"
    properties_schema = {
        "name": Prop("string", update_allowed=True),
        "description": Prop("string", update_allowed=True),
        "rules": Prop("list", default=[], update_allowed=True, schema={"*": _RULE}),
    }
    attributes_schema = {"name": "", "description": "", "security_group_rules": "", "tenant_id": ""}

    async def _rules(self, rules: list[dict[str, Any]]) -> None:
        group = self.physical_id
        if any(r.get("direction") == "egress" for r in rules):
            shown = await self.show() or {}
            for rule in shown.get("security_group_rules", []):
                if rule.get("direction") == "egress":
                    await self.cloud.request(
                        "network",
                        "DELETE",
                        f"{V}/security-group-rules/{rule['id']}",
                        missing_ok=True,
                    )
        for rule in rules:
            body = {k: v for k, v in rule.items() if v is not None and k != "remote_mode"}
            body["security_group_id"] = group
            if rule.get("remote_mode") == "remote_group_id":
                body.pop("remote_ip_prefix", None)
                body["remote_group_id"] = rule.get("remote_group_id") or group
            else:
                body.pop("remote_group_id", None)
            try:
                await self.cloud.request(
                    "network",
                    "POST",
                    f"{V}/security-group-rules",
                    json_body={"security_group_rule": body},
                )
            except ServiceCallFailed as exc:
                if exc.status != 409:  # the same rule exists already
                    raise

    async def create(self) -> None:
        body = {"name": self.properties.get("name") or self.physical_name()}
        if self.properties.get("description") is not None:
            body["description"] = self.properties["description"]
        await self.post(body)
        await self._rules(self.properties.get("rules") or [])

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        body = {}
        if "name" in changed:
            body["name"] = new.get("name") or self.physical_name()
        if "description" in changed:
            body["description"] = new.get("description") or ""
        if body:
            await self.put(body)
        if "rules" in changed:
            shown = await self.show() or {}
            for rule in shown.get("security_group_rules", []):
                await self.cloud.request(
                    "network", "DELETE", f"{V}/security-group-rules/{rule['id']}", missing_ok=True
                )
            rules = new.get("rules") or []
            defaults = [{"direction": "egress", "ethertype": e} for e in ("IPv4", "IPv6")]
            if not any(r.get("direction") == "egress" for r in rules):
                rules = [*defaults, *rules]
            await self._rules(rules)
        self.properties = new


class SecurityGroupRule(NeutronResource):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "One rule of a security group."
    collection = f"{V}/security-group-rules"
    key = "security_group_rule"
    properties_schema = {
        "security_group": Prop("string", "The group.", required=True),
        "direction": Prop("string", default="ingress", allowed=("ingress", "egress")),
        "ethertype": Prop("string", default="IPv4", allowed=("IPv4", "IPv6")),
        "port_range_min": Prop("integer", min=0, max=65535),
        "port_range_max": Prop("integer", min=0, max=65535),
        "protocol": Prop("string"),
        "remote_ip_prefix": Prop("string"),
        "remote_group": Prop("string"),
        "description": Prop("string"),
    }

    async def create(self) -> None:
        body = {
            k: v
            for k, v in self.properties.items()
            if v is not None and k not in ("security_group", "remote_group")
        }
        body["security_group_id"] = await find_id(
            self,
            "network",
            f"{V}/security-groups",
            "security_group",
            self.properties["security_group"],
        )
        if self.properties.get("remote_group"):
            body["remote_group_id"] = await find_id(
                self,
                "network",
                f"{V}/security-groups",
                "security_group",
                self.properties["remote_group"],
            )
        await self.post(body)
