"""Neutron collections onestack does not implement: 501 with a NeutronError body."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onestack.network.exceptions import NotSupported

router = APIRouter()

UNSUPPORTED = {
    "address-scopes": "Address scopes",
    "address-groups": "Address groups",
    "rbac-policies": "RBAC policies",
    "segments": "Network segments",
    "trunks": "Trunks",
    "qos": "Quality of service",
    "fw": "Firewall as a service",
    "vpn": "VPN as a service",
    "lbaas": "Load balancing",
    "bgpvpn": "BGP VPN",
    "network_segment_ranges": "Network segment ranges",
    "auto-allocated-topology": "Auto-allocated topology (use server create --nic auto)",
    "local-ips": "Local IPs",
    "ndp-proxies": "NDP proxies",
    "log": "Packet logging",
    "flavors": "Networking flavors",
}


def _unsupported(request: Request) -> Response:
    collection = request.url.path.split("/")[2]
    raise NotSupported(operation=UNSUPPORTED.get(collection, collection))


for _collection in UNSUPPORTED:
    for _path in (f"/v2.0/{_collection}", f"/v2.0/{_collection}/{{rest:path}}"):
        router.add_api_route(
            _path, _unsupported, methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False
        )
router.add_api_route(
    "/v2.0/floatingips/{fip_id}/port_forwardings{rest:path}",
    _unsupported,
    methods=["GET", "POST", "PUT", "DELETE"],
    include_in_schema=False,
)
