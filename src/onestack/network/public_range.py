"""The range of the external network ``public``: one that no other cloud on this host uses.

The host reaches floating IPs through its address on ``public`` (a host link);
two links holding overlapping ranges make the host route one cloud's floating
IPs to the other's bridge.  So before ``public`` is made (first start), and at
every start after, its range is checked against what the host already holds:
addresses on the host's devices (other clouds' links, leftovers of a crashed
one, real interfaces) and the ranges other onestacks on this host recorded.

- The default range (``network.public_cidr`` not set) in use: the first free
  /24 of ``172.24.4.0`` ... ``172.24.99.0`` is taken instead, and said.
- A range the operator set, or the range an existing ``public`` already has,
  in use: the cloud refuses to start with an error naming the holder and the
  way out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: where a free range for ``public`` is looked for when the default is taken (the test
#: suites set explicit ranges from 172.24.100.0 up)
FALLBACK_THIRD_OCTETS = range(4, 100)


@dataclass(frozen=True)
class HeldRange:
    """A range in use on this host and who holds it (a device, another cloud)."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    holder: str


class PublicRangeInUse(RuntimeError):
    """The cloud cannot start: its ``public`` range is in use (the message says by what
    and how to resolve it)."""


@dataclass(frozen=True)
class RangeChoice:
    cidr: str
    #: what to tell the operator ('' when the wanted range was free)
    notice: str = ""


def _clash(cidr: str, held: Iterable[HeldRange]) -> HeldRange | None:
    network = ipaddress.ip_network(cidr, strict=False)
    for item in held:
        if item.network.version == network.version and item.network.overlaps(network):
            return item
    return None


def choose(wanted: str, held: Sequence[HeldRange], *, explicit: bool) -> RangeChoice:
    """The range ``public`` gets: ``wanted`` when free; else (``wanted`` is the default)
    the first free fallback; else PublicRangeInUse naming the conflict and the fix."""
    clash = _clash(wanted, held)
    if clash is None:
        return RangeChoice(wanted)
    why = f"{wanted} (the range of the network `public`) is in use on this host: {clash.holder}"
    if explicit:
        raise PublicRangeInUse(
            f"{why}. Choose another range with `onestack up --public-cidr CIDR` "
            "(network.public_cidr), or remove the holder (`onestack doctor --fix` removes "
            "what stopped onestacks left; `onestack down` stops a running one)."
        )
    for third in FALLBACK_THIRD_OCTETS:
        candidate = f"172.24.{third}.0/24"
        if _clash(candidate, held) is None:
            return RangeChoice(
                candidate,
                f"{why}; `public` takes {candidate} instead "
                "(choose with `onestack up --public-cidr CIDR`)",
            )
    raise PublicRangeInUse(
        f"{why}, and so is every range from 172.24.4.0/24 to 172.24.99.0/24. "
        "Choose one with `onestack up --public-cidr CIDR`, or run `onestack doctor --fix`."
    )


def check_existing(cidr: str, held: Sequence[HeldRange]) -> None:
    """The range of an existing ``public`` is fixed: PublicRangeInUse when it clashes."""
    clash = _clash(cidr, held)
    if clash is not None:
        raise PublicRangeInUse(
            f"{cidr}, the range of this cloud's external network `public`, is in use "
            f"on this host: {clash.holder}. Stop that cloud (`onestack down`), or remove "
            "what a stopped one left (`onestack doctor --fix`), then start again."
        )


def parse_addresses(output: str, own_devices: Iterable[str] = ()) -> list[HeldRange]:
    """The ranges in ``ip -o addr show`` output, except those of ``own_devices``
    (and loopback, and link-local IPv6)."""
    own = set(own_devices)
    held = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] not in ("inet", "inet6"):
            continue
        device = fields[1].split("@")[0]
        if device in own or device == "lo":
            continue
        interface = ipaddress.ip_interface(fields[3])
        if interface.is_link_local:
            continue
        held.append(HeldRange(interface.network, f"address {interface} on host device {device}"))
    return held
