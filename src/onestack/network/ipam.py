"""IP address management: subnet validation and address allocation (pure functions).

Addresses are handed out from a subnet's allocation pools, lowest free
first; the database's unique (subnet, address) constraint is the final
arbiter when two requests race.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
from collections.abc import Iterable, Iterator
from typing import Any

from onestack.network.exceptions import (
    GatewayConflictWithAllocationPools,
    InvalidInput,
    OutOfBoundsAllocationPool,
    OverlappingAllocationPools,
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_cidr(cidr: str, ip_version: int) -> IPNetwork:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise InvalidInput(error_message=f"'{cidr}' is not a valid IP subnet") from None
    if str(net) != cidr and str(net) != str(ipaddress.ip_network(cidr, strict=False)):
        pass
    if net.version != ip_version:
        raise InvalidInput(error_message="Cidr and IP version are inconsistent")
    if str(net.network_address) != cidr.split("/")[0] and "/" in cidr:
        raise InvalidInput(
            error_message=f"'{cidr}' isn't a recognized IP subnet cidr, '{net}' is recommended"
        )
    if net.version == 4 and net.prefixlen > 30:
        raise InvalidInput(error_message=f"Invalid CIDR {cidr} for IPv4 subnet")
    if net.version == 6 and net.prefixlen > 126:
        raise InvalidInput(error_message=f"Invalid CIDR {cidr} for IPv6 subnet")
    return net


def parse_ip(value: Any, what: str = "ip_address") -> IPAddress:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise InvalidInput(error_message=f"Invalid data format for IP address: '{value}'") from None


def host_range(net: IPNetwork) -> tuple[int, int]:
    """First and last assignable address (IPv4 skips network and broadcast)."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    return first, last


def default_gateway(net: IPNetwork) -> str:
    return str(ipaddress.ip_address(int(net.network_address) + 1))


def default_pools(net: IPNetwork, gateway: str | None) -> list[dict[str, str]]:
    first, last = host_range(net)
    ranges = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        ranges = []
        if first <= gw - 1:
            ranges.append((first, min(gw - 1, last)))
        if gw + 1 <= last:
            ranges.append((max(gw + 1, first), last))
    cls = ipaddress.ip_address
    return [{"start": str(cls(a)), "end": str(cls(b))} for a, b in ranges if a <= b]


def validate_pools(
    net: IPNetwork, pools: list[dict[str, str]], gateway: str | None
) -> list[dict[str, str]]:
    parsed: list[tuple[int, int, str]] = []
    for pool in pools:
        if not isinstance(pool, dict) or "start" not in pool or "end" not in pool:
            raise InvalidInput(error_message="Allocation pools need a start and an end")
        start, end = parse_ip(pool["start"]), parse_ip(pool["end"])
        text = f"{start}-{end}"
        if start.version != net.version or end.version != net.version or int(start) > int(end):
            raise InvalidInput(error_message=f"Invalid allocation pool {text}")
        if start not in net or end not in net:
            raise OutOfBoundsAllocationPool(pool=text, subnet_cidr=str(net))
        parsed.append((int(start), int(end), text))
    parsed.sort()
    for (_a1, b1, t1), (a2, _, t2) in itertools.pairwise(parsed):
        if a2 <= b1:
            raise OverlappingAllocationPools(pool_1=t1, pool_2=t2, subnet_cidr=str(net))
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for a, b, text in parsed:
            if a <= gw <= b:
                raise GatewayConflictWithAllocationPools(ip_address=gateway, pool=text)
    return [{"start": p["start"], "end": p["end"]} for p in pools]


def in_pools(address: IPAddress, pools: Iterable[dict[str, str]]) -> bool:
    value = int(address)
    return any(
        int(ipaddress.ip_address(p["start"])) <= value <= int(ipaddress.ip_address(p["end"]))
        for p in pools
    )


def pool_size(pools: Iterable[dict[str, str]]) -> int:
    return sum(
        int(ipaddress.ip_address(p["end"])) - int(ipaddress.ip_address(p["start"])) + 1
        for p in pools
    )


def candidates(pools: Iterable[dict[str, str]], used: set[str]) -> Iterator[str]:
    """Free addresses of the pools, lowest first."""
    for pool in pools:
        start = int(ipaddress.ip_address(pool["start"]))
        end = int(ipaddress.ip_address(pool["end"]))
        cls = type(ipaddress.ip_address(pool["start"]))
        for value in range(start, end + 1):
            text = str(cls(value))
            if text not in used:
                yield text


def pick(pools: Iterable[dict[str, str]], used: set[str], window: int = 32) -> str | None:
    """A free address: one of the lowest ``window`` free ones, at random (as Neutron does).

    Not always the lowest, so that an address freed a moment ago is rarely
    handed out again at once (neighbours may still cache the old MAC for it).
    """
    free = []
    for address in candidates(pools, used):
        free.append(address)
        if len(free) >= window:
            break
    return random.choice(free) if free else None


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` in the /64 ``cidr`` (RFC 4291, modified EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = bytes([*octets[:3], 0xFF, 0xFE, *octets[3:]])
    net = ipaddress.IPv6Network(cidr)
    return str(net.network_address + int.from_bytes(interface, "big"))


def random_mac(base: str) -> str:
    parts = base.split(":")[:3]
    tail = [f"{random.randint(0, 255):02x}" for _ in range(3)]
    return ":".join([*parts, *tail])


def normalize_mac(value: Any) -> str:
    text = str(value).strip().lower().replace("-", ":")
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise InvalidInput(error_message=f"'{value}' is not a valid MAC address")
    try:
        first = int(parts[0], 16)
        for p in parts:
            int(p, 16)
    except ValueError:
        raise InvalidInput(error_message=f"'{value}' is not a valid MAC address") from None
    if first & 1 or text == "00:00:00:00:00:00":
        raise InvalidInput(error_message=f"'{value}' is not a valid unicast MAC address")
    return text


def overlaps(a: str, b: str) -> bool:
    net_a, net_b = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return net_a.version == net_b.version and net_a.overlaps(net_b)  # type: ignore[arg-type,unused-ignore]
