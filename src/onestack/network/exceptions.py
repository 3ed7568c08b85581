"""Networking errors, with neutron-lib's type names, statuses and messages.

The error body is ``{"NeutronError": {"type": <class name>, "message", "detail"}}``
(``onestack.common.errors``); the class name is the ``type`` clients see.
"""

from __future__ import annotations

from typing import Any

from onestack.common.exceptions import (
    BadRequest as _BadRequest,
)
from onestack.common.exceptions import (
    Conflict,
    NotFound,
    PreconditionFailed,
)
from onestack.common.exceptions import NotSupported as _NotSupported
from onestack.common.exceptions import (
    OverQuota as _OverQuota,
)
from onestack.common.exceptions import (
    PolicyNotAuthorized as _PolicyNotAuthorized,
)


class BadRequest(_BadRequest):
    msg_fmt = "Bad {resource} request: {msg}."


class InvalidInput(_BadRequest):
    msg_fmt = "Invalid input for operation: {error_message}."


class PolicyNotAuthorized(_PolicyNotAuthorized):
    msg_fmt = "({action}) is disallowed by policy."


class NetworkNotFound(NotFound):
    msg_fmt = "Network {net_id} could not be found."


class AgentNotFound(NotFound):
    msg_fmt = "Agent {id} could not be found."


class InvalidDHCPAgent(AgentNotFound):
    msg_fmt = "Agent {id} is not a valid DHCP Agent or has been disabled."


class InvalidL3Agent(AgentNotFound):
    msg_fmt = "Agent {id} is not a L3 Agent or has been disabled."


class NetworkHostedByDHCPAgent(Conflict):
    msg_fmt = "The network {network_id} has been already hosted by the DHCP Agent {agent_id}."


class NetworkNotHostedByDhcpAgent(Conflict):
    msg_fmt = "The network {network_id} is not hosted by the DHCP Agent {agent_id}."


class RouterHostedByL3Agent(Conflict):
    msg_fmt = "The router {router_id} has been already hosted by the L3 Agent {agent_id}."


class RouterNotHostedByL3Agent(Conflict):
    msg_fmt = "The router {router_id} is not hosted by L3 agent {agent_id}."


class SubnetNotFound(NotFound):
    msg_fmt = "Subnet {subnet_id} could not be found."


class PortNotFound(NotFound):
    msg_fmt = "Port {port_id} could not be found."


class RouterNotFound(NotFound):
    msg_fmt = "Router {router_id} could not be found."


class FloatingIPNotFound(NotFound):
    msg_fmt = "Floating IP {floatingip_id} could not be found."


class SecurityGroupNotFound(NotFound):
    msg_fmt = "Security group {id} does not exist."


class SecurityGroupRuleNotFound(NotFound):
    msg_fmt = "Security group rule {id} does not exist."


class TagNotFound(NotFound):
    msg_fmt = "Tag {tag} could not be found for {resource} {resource_id}."


class ExtensionNotFound(NotFound):
    msg_fmt = "Extension with alias {extension_alias} does not exist."


class RouterInterfaceNotFound(NotFound):
    msg_fmt = "Router {router_id} does not have an interface with id {port_id}."


class RouterInterfaceNotFoundForSubnet(NotFound):
    msg_fmt = "Router {router_id} has no interface on subnet {subnet_id}."


class NetworkInUse(Conflict):
    msg_fmt = (
        "Unable to complete operation on network {net_id}. "
        "There are one or more ports still in use on the network."
    )


class SubnetInUse(Conflict):
    msg_fmt = "Unable to complete operation on subnet {subnet_id}: {reason}."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("reason", "One or more ports have an IP allocation from this subnet")
        super().__init__(message, **kwargs)


class PortBindingFailed(_BadRequest):
    """A port could not be bound to the host (its network agent is down), as Nova
    reports it in the instance's fault."""

    msg_fmt = "Binding failed for port {port_id}, please check neutron logs for more information."


class PortInUse(Conflict):
    msg_fmt = (
        "Unable to complete operation on port {port_id} for network {net_id}. "
        "Port already has an attached device {device_id}."
    )


class IpAddressInUse(Conflict):
    msg_fmt = (
        "Unable to complete operation for network {net_id}. The IP address {ip_address} is in use."
    )


class MacAddressInUse(Conflict):
    msg_fmt = "Unable to complete operation for network {net_id}. The mac address {mac} is in use."


class IpAddressGenerationFailure(Conflict):
    msg_fmt = "No more IP addresses available on network {net_id}."


class InvalidIpForNetwork(_BadRequest):
    msg_fmt = (
        "IP address {ip_address} is not a valid IP for any of the subnets on the specified network."
    )


class InvalidIpForSubnet(_BadRequest):
    msg_fmt = "IP address {ip_address} is not a valid IP for the specified subnet."


class ExternalIpAddressExhausted(_BadRequest):
    msg_fmt = "Unable to find any IP address on external network {net_id}."


class RouterInUse(Conflict):
    msg_fmt = "Router {router_id} {reason}."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("reason", "still has ports")
        super().__init__(message, **kwargs)


class RouterInterfaceInUseByFloatingIP(Conflict):
    msg_fmt = (
        "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, "
        "as it is required by one or more floating IPs."
    )


class FloatingIPPortAlreadyAssociated(_BadRequest):
    msg_fmt = (
        "Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} "
        "using fixed IP {fixed_ip}, as that fixed IP already has a floating IP on external "
        "network {net_id}."
    )


class ExternalGatewayForFloatingIPNotFound(NotFound):
    msg_fmt = (
        "External network {external_network_id} is not reachable from subnet {subnet_id}. "
        "Therefore, cannot associate Port {port_id} with a Floating IP."
    )


class SecurityGroupInUse(Conflict):
    msg_fmt = "Security Group {id} in use."


class SecurityGroupCannotRemoveDefault(Conflict):
    msg_fmt = "Insufficient rights for removing default security group."


class SecurityGroupDefaultAlreadyExists(Conflict):
    msg_fmt = "Default security group already exists."


class SecurityGroupCannotUpdateDefault(Conflict):
    msg_fmt = "Updating default security group not allowed."


class SecurityGroupInvalidPortValue(_BadRequest):
    msg_fmt = "Invalid value for port {port}."


class SecurityGroupInvalidPortRange(_BadRequest):
    msg_fmt = "For TCP/UDP protocols, port_range_min must be <= port_range_max."


class SecurityGroupInvalidIcmpValue(_BadRequest):
    msg_fmt = "Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255."


class SecurityGroupMissingIcmpType(_BadRequest):
    msg_fmt = (
        "ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing."
    )


class SecurityGroupRuleExists(Conflict):
    msg_fmt = "Security group rule already exists. Rule id is {rule_id}."


class DuplicateSecurityGroupRuleInPost(InvalidInput):
    pass


class SecurityGroupRuleInvalidProtocol(_BadRequest):
    msg_fmt = (
        "Security group rule protocol {protocol} not supported. Only protocol values "
        "{values} and integer representations [0 to 255] are supported."
    )


class RevisionNumberConstraintFailed(PreconditionFailed):
    msg_fmt = "Constrained to {expected}, but current revision is {current}"


class OverQuota(Conflict):
    msg_fmt = "Quota exceeded for resources: {overs}."


class QuotaExceeded(_OverQuota):
    """Raised by the QuotaEngine; turned into OverQuota (409) by the manager."""

    code = 409
    title = "Conflict"
    error_type = "OverQuota"
    msg_fmt = "Quota exceeded for resources: ['{resource}']."


class NotSupported(_NotSupported):
    error_type = "NotImplementedError"
    msg_fmt = "{operation} is not supported by onestack."


class HTTPBadRequest(_BadRequest):
    """A malformed request body or attribute (Neutron's webob 400)."""

    msg_fmt = "{detail}"


class SubnetPoolNotFound(NotFound):
    msg_fmt = "Subnetpool {subnetpool_id} could not be found."


class SubnetPoolInUse(Conflict):
    msg_fmt = "Unable to complete operation on subnetpool {subnet_pool_id}. {reason}."


class SubnetAllocationError(Conflict):
    msg_fmt = "Failed to allocate subnet: {reason}."


class NetworkAmbiguous(Conflict):
    msg_fmt = "Multiple possible networks found, use a Network ID to be more specific."


class PortDeletionForbidden(Conflict):
    error_type = "ServicePortInUse"
    msg_fmt = "Port {port_id} cannot be deleted directly via the port API: {reason}."


class PortSecurityAndIPRequiredForSecurityGroups(InvalidInput):
    msg_fmt = (
        "Port security must be enabled and port must have an IP address in order to "
        "use security groups."
    )


class AddressPairAndPortSecurityRequired(Conflict):
    msg_fmt = "Port Security must be enabled in order to have allowed address pairs on a port."


class GatewayConflictWithAllocationPools(Conflict):
    msg_fmt = "Gateway ip {ip_address} conflicts with allocation pool {pool}."


class OverlappingAllocationPools(Conflict):
    msg_fmt = "Found overlapping allocation pools: {pool_1} {pool_2} for subnet {subnet_cidr}."


class OutOfBoundsAllocationPool(InvalidInput):
    msg_fmt = "The allocation pool {pool} spans beyond the subnet cidr {subnet_cidr}."


class MeteringLabelNotFound(NotFound):
    msg_fmt = "Metering label {label_id} does not exist."


class MeteringLabelRuleNotFound(NotFound):
    msg_fmt = "Metering label rule {rule_id} does not exist."


class MeteringLabelRuleOverlaps(Conflict):
    msg_fmt = "Metering label rule with remote_ip_prefix {remote_ip_prefix} overlaps another."
