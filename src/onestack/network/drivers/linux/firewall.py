"""Security groups: stateful iptables rules in each network's bridge namespace.

Bridged packets pass the namespace's FORWARD chain (br_netfilter), matched
per port with ``physdev``.  For every filtered port ``P``:

* ``oso-P`` (traffic *from* the port): DHCP requests pass; otherwise the
  source must be one of the port's addresses (or allowed address pairs)
  with the port's MAC, or the packet is dropped (anti-spoofing); then
  ``oss-P`` applies the egress rules;
* ``osi-P`` (traffic *to* the port): DHCP replies pass, then the ingress
  rules; everything else is dropped.

A chain "passes" by RETURN so that a packet between two instances meets
the sender's egress and the receiver's ingress chain.  Established
connections pass both ways (conntrack).  The whole table is replaced
atomically with ``iptables-restore``; the namespace is onestack's own.

Layer 2 (ebtables, stateless, where available): frames from a filtered
port must carry the port's MAC (or an address pair's), and its ARP
packets one of its IPv4 addresses as sender, so that an instance cannot
poison its neighbours' ARP caches either.
"""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Iterable

from onestack.network.drivers.linux import commands, names
from onestack.network.drivers.linux.hostconf import HostConfig
from onestack.network.topology import Desired, NetworkState, PortState, RuleState

ICMP = {4: "icmp", 6: "ipv6-icmp"}
PROTO_NUMBERS = {"icmpv6": "ipv6-icmp", "ipv6-icmp": "ipv6-icmp", "1": "icmp", "58": "ipv6-icmp"}


def _family(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def _match(rule: RuleState, version: int) -> str:
    parts: list[str] = []
    if rule.protocol is not None:
        proto = PROTO_NUMBERS.get(rule.protocol, rule.protocol)
        if proto == "icmp" and version == 6:
            proto = "ipv6-icmp"
        parts.append(f"-p {proto}")
        if proto in ("tcp", "udp", "sctp", "dccp", "6", "17", "132", "33"):
            name = {"6": "tcp", "17": "udp", "132": "sctp", "33": "dccp"}.get(proto, proto)
            if rule.port_min is not None:
                high = rule.port_max if rule.port_max is not None else rule.port_min
                ports = f"{rule.port_min}:{high}" if high != rule.port_min else f"{rule.port_min}"
                parts.append(f"-m {name} --dport {ports}")
        elif proto in ("icmp", "ipv6-icmp") and rule.port_min is not None:
            kind = f"{rule.port_min}" + (f"/{rule.port_max}" if rule.port_max is not None else "")
            option = "--icmp-type" if proto == "icmp" else "--icmpv6-type"
            parts.append(f"-m {'icmp' if proto == 'icmp' else 'icmp6'} {option} {kind}")
    return " ".join(parts)


def _rule_lines(
    chain: str, rule: RuleState, version: int, desired: Desired, own: Iterable[str]
) -> list[str]:
    if rule.ethertype != f"IPv{version}":
        return []
    match = _match(rule, version)
    flag = "-s" if rule.direction == "ingress" else "-d"
    remotes: list[str | None]
    if rule.remote_group_id is not None:
        remotes = [
            a for a in desired.members.get(rule.remote_group_id, ()) if _family(a) == version
        ]
        if not remotes:
            return []
    elif rule.remote_ip_prefix is not None:
        remotes = [str(ipaddress.ip_network(rule.remote_ip_prefix, strict=False))]
    else:
        remotes = [None]
    lines = []
    for remote in remotes:
        where = f" {flag} {remote}" if remote else ""
        lines.append(f"-A {chain}{where} {match} -j RETURN".replace("  ", " "))
    return lines


def _port_chains(port: PortState, version: int, desired: Desired) -> tuple[list[str], list[str]]:
    """(chain declarations, rules) of one filtered port."""
    ingress, egress, spoof = (names.chain(k, port.id) for k in ("i", "s", "o"))
    decl = [f":{ingress} - [0:0]", f":{spoof} - [0:0]", f":{egress} - [0:0]"]
    rules: list[str] = []
    # to the port
    rules.append(f"-A {ingress} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
    rules.append(f"-A {ingress} -m conntrack --ctstate INVALID -j DROP")
    if version == 4:
        rules.append(f"-A {ingress} -p udp -m udp --sport 67 --dport 68 -j RETURN")
    else:
        rules.append(f"-A {ingress} -p ipv6-icmp -j RETURN")
    groups = [desired.rules.get(g, ()) for g in port.groups]
    for group_rules in groups:
        for rule in group_rules:
            if rule.direction == "ingress":
                rules += _rule_lines(ingress, rule, version, desired, ())
    rules.append(f"-A {ingress} -j DROP")
    # from the port: anti-spoofing, then egress rules
    if version == 4:
        rules.append(f"-A {spoof} -s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 -j RETURN")
    else:
        rules.append(f"-A {spoof} -s fe80::/10 -m mac --mac-source {port.mac} -g {egress}")
        rules.append(f"-A {spoof} -s ::/128 -p ipv6-icmp -j RETURN")
    allowed = [(ip, port.mac) for ip, _ in port.ips] + list(port.pairs)
    for address, mac in allowed:
        if _family(address) != version:
            continue
        rules.append(f"-A {spoof} -s {address} -m mac --mac-source {mac} -g {egress}")
    rules.append(f"-A {spoof} -j DROP")
    rules.append(f"-A {egress} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
    rules.append(f"-A {egress} -m conntrack --ctstate INVALID -j DROP")
    if version == 4:
        rules.append(f"-A {egress} -p udp -m udp --sport 68 --dport 67 -j RETURN")
    else:
        rules.append(f"-A {egress} -p ipv6-icmp -j RETURN")
    for group_rules in groups:
        for rule in group_rules:
            if rule.direction == "egress":
                rules += _rule_lines(egress, rule, version, desired, ())
    rules.append(f"-A {egress} -j DROP")
    return decl, rules


def ruleset(net: NetworkState, desired: Desired, version: int) -> str:
    decl = [":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    jumps_out: list[str] = []
    jumps_in: list[str] = []
    body: list[str] = []
    for port in net.ports:
        if not port.filtered:
            continue
        tap = names.tap(port.id)
        port_decl, rules = _port_chains(port, version, desired)
        decl += port_decl
        body += rules
        jumps_out.append(
            f"-A FORWARD -m physdev --physdev-in {tap} --physdev-is-bridged "
            f"-j {names.chain('o', port.id)}"
        )
        jumps_in.append(
            f"-A FORWARD -m physdev --physdev-out {tap} --physdev-is-bridged "
            f"-j {names.chain('i', port.id)}"
        )
    lines = ["*filter", *decl, *jumps_out, *jumps_in, *body, "COMMIT", ""]
    return "\n".join(lines)


def l2_ruleset(net: NetworkState) -> str:
    """The ebtables filter table: MAC and ARP anti-spoofing for filtered ports."""
    decl = [":INPUT ACCEPT", ":FORWARD ACCEPT", ":OUTPUT ACCEPT"]
    rules: list[str] = []
    for port in net.ports:
        if not port.filtered:
            continue
        tap = names.tap(port.id)
        macs, arps = names.chain("m", port.id), names.chain("a", port.id)
        decl += [f":{macs} RETURN", f":{arps} RETURN"]
        rules.append(f"-A FORWARD -i {tap} -j {macs}")
        rules.append(f"-A FORWARD -p ARP -i {tap} -j {arps}")
        allowed_macs = sorted({port.mac, *(mac for _, mac in port.pairs)})
        rules += [f"-A {macs} -s {mac} -j RETURN" for mac in allowed_macs]
        rules.append(f"-A {macs} -j DROP")
        sources = ["0.0.0.0"]  # ARP probes before an address is configured
        sources += [ip for ip, _ in port.ips if _family(ip) == 4]
        sources += [ip for ip, _ in port.pairs if _family(ip) == 4]
        rules += [f"-A {arps} -p ARP --arp-ip-src {src} -j RETURN" for src in sources]
        rules.append(f"-A {arps} -j DROP")
    return "\n".join(["*filter", *decl, *rules, ""])


def apply(host: HostConfig, net: NetworkState, desired: Desired) -> None:
    ns = names.net_ns(net.id, host.scope)
    commands.run(["iptables-restore"], netns=ns, input=ruleset(net, desired, 4))
    if shutil.which("ebtables-restore"):
        commands.run(["ebtables-restore"], netns=ns, input=l2_ruleset(net))
    if shutil.which("ip6tables-restore"):
        commands.run(["ip6tables-restore"], netns=ns, input=ruleset(net, desired, 6))
