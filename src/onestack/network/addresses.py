"""Addresses of new ports: fixed IPs from a network's subnets, and MAC addresses.

Fixed IPs come from a subnet's allocation pools, lowest free first
(``onestack.network.ipam``), or from the port's MAC on SLAAC subnets; the
database's unique (subnet, address) and (network, MAC) constraints are the
final arbiters when two requests race.  Every lookup is a query in the
caller's transaction, so earlier items of a bulk create are taken into account.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.network import ipam
from onestack.network.attrs import invalid
from onestack.network.conf import NetworkSettings
from onestack.network.exceptions import (
    Conflict,
    InvalidInput,
    InvalidIpForNetwork,
    InvalidIpForSubnet,
    IpAddressGenerationFailure,
    IpAddressInUse,
    MacAddressInUse,
)
from onestack.network.models import IPAllocation, Network, Port, Subnet

#: owners that never get automatic (SLAAC) addresses: routers' legs carry the gateway
NO_AUTO_ADDRESS = ("network:router_interface", "network:router_gateway", "network:floatingip")


class AddressAllocator:
    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings

    def _used(self, session: Session, subnet_id: str) -> set[str]:
        return set(
            session.scalars(
                select(IPAllocation.ip_address).where(IPAllocation.subnet_id == subnet_id)
            )
        )

    def allocate(
        self,
        session: Session,
        network: Network,
        requests: list[dict[str, Any]] | None,
        *,
        owner: str = "",
        mac: str | None = None,
    ) -> list[IPAllocation]:
        """Fixed IPs for a new port; ``None`` means one from each IP version's first
        subnet, plus the EUI-64 address of ``mac`` on every SLAAC subnet (as Neutron
        does for subnets whose ``ipv6_address_mode`` is ``slaac`` or ``dhcpv6-stateless``).
        """
        subnets = {s.id: s for s in network.subnets}
        result: list[IPAllocation] = []
        if requests is None:
            done: set[int] = set()
            for each in network.subnets:
                if each.ip_version in done or _auto_address(each):
                    continue
                free = ipam.pick(each.allocation_pools, self._used(session, each.id))
                if free is None:
                    continue
                done.add(each.ip_version)
                result.append(self._alloc(network, each, free, len(result)))
            if mac is not None and owner not in NO_AUTO_ADDRESS:
                for each in network.subnets:
                    if _auto_address(each):
                        slaac = ipam.eui64(each.cidr, mac)
                        result.append(self._alloc(network, each, slaac, len(result)))
            if network.subnets and not result:
                raise IpAddressGenerationFailure(net_id=network.id)
            return result
        taken: set[tuple[str, str]] = set()
        for request in requests:
            if not isinstance(request, dict) or not set(request) <= {"subnet_id", "ip_address"}:
                raise invalid("fixed_ips", f"Invalid data format for fixed IP: '{request}'")
            subnet: Subnet | None = None
            if request.get("subnet_id"):
                subnet = subnets.get(str(request["subnet_id"]))
                if subnet is None:
                    raise InvalidInput(
                        error_message=f"Failed to create port on network {network.id}, because "
                        f"fixed_ips included invalid subnet {request['subnet_id']}"
                    )
            if request.get("ip_address") is not None:
                address: ipam.IPAddress = ipam.parse_ip(request["ip_address"])
                if subnet is None:
                    subnet = next(
                        (s for s in network.subnets if address in ipaddress.ip_network(s.cidr)),
                        None,
                    )
                    if subnet is None:
                        raise InvalidIpForNetwork(ip_address=str(address))
                if (
                    _auto_address(subnet)
                    and owner not in NO_AUTO_ADDRESS
                    and (mac is None or str(address) != ipam.eui64(subnet.cidr, mac))
                ):
                    raise InvalidInput(
                        error_message=f"IPv6 address {address} cannot be directly assigned to "
                        f"a port on subnet {subnet.id} as the subnet is configured for "
                        "automatic addresses"
                    )
                net = ipaddress.ip_network(subnet.cidr)
                if (
                    address not in net
                    or address == net.network_address
                    or (net.version == 4 and address == net.broadcast_address)
                ):
                    raise InvalidIpForSubnet(ip_address=str(address))
                if str(address) == subnet.gateway_ip and owner != "network:router_interface":
                    raise IpAddressInUse(net_id=network.id, ip_address=str(address))
                text = str(address)
                if text in self._used(session, subnet.id) or (subnet.id, text) in taken:
                    raise IpAddressInUse(net_id=network.id, ip_address=text)
            elif subnet is not None and _auto_address(subnet) and mac is not None:
                text = ipam.eui64(subnet.cidr, mac)
            else:
                if subnet is None:
                    raise invalid("fixed_ips", "a subnet_id or an ip_address is required")
                used = self._used(session, subnet.id) | {a for s, a in taken if s == subnet.id}
                found = ipam.pick(subnet.allocation_pools, used)
                if found is None:
                    raise IpAddressGenerationFailure(net_id=network.id)
                text = found
            taken.add((subnet.id, text))
            result.append(self._alloc(network, subnet, text, len(result)))
        return result

    @staticmethod
    def _alloc(network: Network, subnet: Subnet, address: str, position: int) -> IPAllocation:
        return IPAllocation(
            ip_address=address, subnet_id=subnet.id, network_id=network.id, position=position
        )

    def mac(self, session: Session, network: Network, requested: Any) -> str:
        if requested is not None:
            mac = ipam.normalize_mac(requested)
            clash = session.scalar(
                select(Port.id).where(Port.network_id == network.id, Port.mac_address == mac)
            )
            if clash:
                raise MacAddressInUse(net_id=network.id, mac=mac)
            return mac
        for _ in range(16):
            mac = ipam.random_mac(self.settings.base_mac)
            if not session.scalar(
                select(Port.id).where(Port.network_id == network.id, Port.mac_address == mac)
            ):
                return mac
        raise Conflict("Unable to generate a unique MAC address.")


def _auto_address(subnet: Subnet) -> bool:
    """Addresses on this subnet come from the port's MAC (SLAAC), not from its pools."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in ("slaac", "dhcpv6-stateless")
