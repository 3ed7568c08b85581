"""A server's interfaces (``os-interface``) and security groups (server actions).

Both go through the network service's Protocol: attaching creates or claims
a port and plugs it into the running instance's namespace; security groups
are set on every port of the server.  Without the network service these
answer Nova's 501.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, NotFound, NotSupported
from onestack.compute import states

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore
    from onestack.compute.servers import ServerManager
    from onestack.network.interface import NetworkRequest, NetworkService, PortInfo

#: Nova: interfaces attach while ACTIVE, STOPPED or PAUSED
ATTACH_STATES = (states.ACTIVE, states.STOPPED, states.PAUSED)


class InterfaceManager:
    def __init__(self, core: ComputeCore, servers: ServerManager) -> None:
        self.core = core
        self.servers = servers

    def _network(self) -> NetworkService:
        network = self.core.neighbours.network
        if network is None:
            raise NotSupported(operation="Interfaces without the network service")
        return network

    def list(self, ctx: RequestContext, server_id: str) -> list[PortInfo]:
        instance = self.servers.get(ctx, server_id)
        return self._network().get_instance_nw_info(ctx, instance.id)

    def show(self, ctx: RequestContext, server_id: str, port_id: str) -> PortInfo:
        for port in self.list(ctx, server_id):
            if port.id == port_id:
                return port
        raise NotFound(f"Instance {server_id} is not attached to port {port_id}.")

    def attach(self, ctx: RequestContext, server_id: str, request: NetworkRequest) -> PortInfo:
        instance = self.servers.get(ctx, server_id)
        network = self._network()
        if instance.vm_state not in ATTACH_STATES:
            raise Conflict(
                f"Cannot 'attach_interface' instance {server_id} while it is in vm_state "
                f"{instance.vm_state}"
            )
        port = network.attach_interface(ctx, instance.id, instance.host or "", request)
        if self._hot_plugs(instance.host):  # a VM: its agent plugs the tap into QEMU
            agents = self.core.rpc.agents
            self.core.call(agents.attach_interface(instance.host or "", instance.id, port.id))
        return port

    def _hot_plugs(self, host: str | None) -> bool:
        """Whether the host's driver plugs ports into running instances itself (VMs)."""
        from sqlalchemy import select

        from onestack.compute.driver import Capabilities
        from onestack.compute.models import ComputeNode

        if host is None:
            return False
        with self.core.db.reader() as session:
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == host)).first()
            recorded = node.capabilities if node is not None else None
        return Capabilities.from_dict(recorded).interface_attach

    def detach(self, ctx: RequestContext, server_id: str, port_id: str) -> None:
        instance = self.servers.get(ctx, server_id)
        network = self._network()
        if port_id not in {p.id for p in network.get_instance_nw_info(ctx, instance.id)}:
            raise NotFound(f"Port {port_id} is not attached")
        if self._hot_plugs(instance.host):
            agents = self.core.rpc.agents
            self.core.call(agents.detach_interface(instance.host or "", instance.id, port_id))
        network.detach_interface(ctx, instance.id, port_id)

    def change_security_group(
        self, ctx: RequestContext, server_id: str, name: str, add: bool
    ) -> None:
        """Nova's addSecurityGroup/removeSecurityGroup: every port of the server."""
        instance = self.servers.get(ctx, server_id)
        network = self._network()
        try:
            group = network.find_security_group(ctx, name, instance.project_id)
        except NotFound:
            raise NotFound(
                f"Security group {name} not found for project {instance.project_id}."
            ) from None
        ports = network.get_instance_nw_info(ctx, instance.id)
        current = {p.id: list(p.security_groups) for p in ports}
        if add and ports and all(group.id in ids for ids in current.values()):
            raise BadRequest(f"Security group {name} is already associated with the instance")
        if not add and not any(group.id in ids for ids in current.values()):
            raise BadRequest(f"Security group {name} not associated with the instance")
        for port_id, ids in current.items():
            if add:
                wanted = ids if group.id in ids else [*ids, group.id]
            else:
                wanted = [i for i in ids if i != group.id]
            network.set_port_security_groups(ctx, port_id, wanted)
        self.servers.rename_security_group(instance.id, group.name, group.id, add)
