"""Version discovery (``/``, ``/v2.0``) and the extension list clients check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from onestack.common.app import base_url
from onestack.network.exceptions import ExtensionNotFound

router = APIRouter()

UPDATED = "2024-01-01T00:00:00Z"

#: (alias, name, description) of every extension onestack implements
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("agent", "agent", "The agent management extension."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a "
     "subnetpool as the default."),
    ("external-net", "Neutron external network", "Adds external network attribute to network "
     "resource."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router "
     "abstraction for specifying whether SNAT should occur on the external gateway"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("fields", "Fields", "Support the 'fields' parameter on list and show."),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter "
     "parameters."),
    ("l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents"),
    ("multi-provider", "Multi Provider Network", "Expose mapping of virtual networks to "
     "multiple physical networks"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("network-ip-availability", "Network IP Availability", "Provides IP availability data for "
     "each network and subnet."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for "
     "network."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field "
     "is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per tenant"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage "
     "statistics per project"),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 "
     "Neutron networks and access to external networks via a NAT gateway."),
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for "
     "router."),
    ("security-group", "security-group", "The security groups extension."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions "
     "to standard attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the "
     "revision number of neutron resources."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, "
     "trunk, network_segment_range, router, network, policy, subnetpool, port, "
     "security_group, floatingip", "Enables to set tag on resources with standard attribute."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields "
     "to all Neutron resources that have Neutron standard attributes."),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group "
     "is stateful or not"),
    ("subnet-external-network", "Subnet External Network", "Informs if the subnet is "
     "associated to an external network."),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet "
     "pool"),
    ("revision-if-match", "If-Match constraints based on revision_number", "Extension indicating "
     "that If-Match based on revision_number is supported."),
    ("tag-ext", "Tag support for resources: subnet, subnetpool, port, router", "Extends tag "
     "support to more L2 and L3 resources."),
    ("auto-allocated-topology", "Auto Allocated Topology Services", "Auto Allocated Topology "
     "Services."),
    ("dvr", "Distributed Virtual Router", "Enables configuration of Distributed Virtual "
     "Routers."),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. "
     "For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, "
     "server-ip-address, bootfile-name)"),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address "
     "substring filtering when listing ports"),
    ("metering", "Neutron Metering", "Neutron Metering extension."),
    ("metering_source_and_destination_fields", "Neutron Metering with source and destination "
     "filtering", "Neutron Metering extension that enables the use of source and destination "
     "IP prefixes to create metering label rules."),
    ("service-type", "Neutron Service Type Management", "API for retrieving service providers "
     "for Neutron advanced services"),
)  # fmt: skip
EXTENSIONS = tuple(e for e in EXTENSIONS if e[0] not in ("multi-provider",
                                                         "auto-allocated-topology"))  # fmt: skip


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": "2013-01-20T00:00:00-00:00",
        "links": [],
    }


def _v2(request: Request) -> dict[str, Any]:
    return {
        "id": "v2.0",
        "status": "CURRENT",
        "links": [{"href": f"{base_url(request)}/v2.0/", "rel": "self"}],
    }


@router.get("/")
async def versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [_v2(request)]})


@router.get("/v2.0")
@router.get("/v2.0/")
async def resources(request: Request) -> JSONResponse:
    names = [
        ("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
        ("router", "routers"), ("floatingip", "floatingips"),
        ("security_group", "security-groups"), ("security_group_rule", "security-group-rules"),
        ("quota", "quotas"), ("network_ip_availability", "network-ip-availabilities"),
        ("availability_zone", "availability_zones"), ("agent", "agents"),
        ("metering_label", "metering/metering-labels"),
        ("metering_label_rule", "metering/metering-label-rules"),
        ("service_provider", "service-providers"),
    ]  # fmt: skip
    url = f"{base_url(request)}/v2.0"
    return JSONResponse(
        {
            "resources": [
                {"name": n, "collection": c, "links": [{"href": f"{url}/{c}", "rel": "self"}]}
                for n, c in names
            ]
        }
    )


@router.get("/v2.0/extensions")
async def list_extensions() -> JSONResponse:
    return JSONResponse({"extensions": [_extension(*e) for e in EXTENSIONS]})


@router.get("/v2.0/extensions/{alias}")
async def show_extension(alias: str) -> JSONResponse:
    for entry in EXTENSIONS:
        if entry[0] == alias:
            return JSONResponse({"extension": _extension(*entry)})
    raise ExtensionNotFound(extension_alias=alias)
