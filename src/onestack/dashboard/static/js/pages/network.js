// Networks, subnets, routers, security groups and rules, floating IPs, ports (Neutron v2.0).

import { api } from "../api.js";
import { can, getSession, isAdmin } from "../policy.js";
import { button, confirm, dialog, fail, formDialog, h, nameOf, shq, statusBadge, table, toast } from "../ui.js";
import { listPage } from "./common.js";

const net = (path, options) => api("network", `/v2.0${path}`, options);
const del = (path, what, reload) => async () => (await confirm(`Delete ${what}?`, "Delete")) && net(path, { method: "DELETE" }).then(reload, fail);

export function networks(main) {
  let subnets = [];
  return listPage(main, {
    title: "Networks",
    load: async () => {
      const [n, s] = await Promise.all([net("/networks"), net("/subnets")]);
      subnets = s.subnets;
      return n.networks;
    },
    columns: [
      { label: "Name", get: (n) => n.name || n.id },
      { label: "Subnets", get: (n) => subnets.filter((s) => s.network_id === n.id).map((s) => `${s.name || s.id} ${s.cidr}`).join(", ") },
      { label: "Shared", get: (n) => (n.shared ? "yes" : "no") },
      { label: "External", get: (n) => (n["router:external"] ? "yes" : "no") },
      { label: "Status", get: (n) => n.status, html: (n) => statusBadge(n.status) },
      { label: "Admin state", get: (n) => (n.admin_state_up ? "UP" : "DOWN") },
    ],
    actions: (n, reload) => [
      { label: "Add subnet", rule: "write", disabled: !isAdmin() && n.project_id !== getSession().project.id, run: () => createSubnet(reload, n) },
      { label: "Delete", rule: "write", danger: true, disabled: !isAdmin() && n.project_id !== getSession().project.id, run: del(`/networks/${n.id}`, `network ${n.name}`, reload) },
    ],
    create: {
      label: "Create network",
      open: (reload) =>
        formDialog({
          title: "Create a network",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "subnet_name", label: "Subnet name", help: "Leave the CIDR empty for a network without a subnet." },
            { name: "cidr", label: "Subnet CIDR", placeholder: "192.168.10.0/24" },
            { name: "gateway_ip", label: "Gateway IP", placeholder: "default: first address" },
            { name: "dhcp", label: "DHCP", type: "checkbox", value: true },
            ...(isAdmin() ? [{ name: "shared", label: "Shared", type: "checkbox" }, { name: "external", label: "External", type: "checkbox" }] : []),
          ],
          cli: (v) =>
            [`openstack network create${v.shared ? " --share" : ""}${v.external ? " --external" : ""} ${shq(v.name || "NAME")}`, v.cidr ? subnetCli(v, v.name || "NAME") : null].filter(Boolean).join("\n"),
          submit: async (v) => {
            const network = { name: v.name };
            if (v.shared) network.shared = true;
            if (v.external) network["router:external"] = true;
            const created = (await net("/networks", { method: "POST", body: { network } })).network;
            if (v.cidr) await net("/subnets", { method: "POST", body: { subnet: subnetBody(v, created.id) } });
            toast(`Network ${v.name} created`);
            reload();
          },
        }),
    },
  });
}

function subnetCli(v, network) {
  return `openstack subnet create --network ${shq(network)} --subnet-range ${shq(v.cidr || "CIDR")}${v.gateway_ip ? ` --gateway ${shq(v.gateway_ip)}` : ""}${v.dhcp ? "" : " --no-dhcp"} ${shq(v.subnet_name || `${network}-subnet`)}`;
}

function subnetBody(v, networkId) {
  const subnet = { network_id: networkId, cidr: v.cidr, ip_version: v.cidr.includes(":") ? 6 : 4, name: v.subnet_name || "", enable_dhcp: !!v.dhcp };
  if (v.gateway_ip) subnet.gateway_ip = v.gateway_ip;
  return subnet;
}

async function createSubnet(reload, network) {
  const list = network ? [network] : (await net("/networks")).networks;
  formDialog({
    title: "Create a subnet",
    fields: [
      { name: "network", label: "Network", type: "select", required: true, options: list.map((n) => [n.id, n.name || n.id]), value: network && network.id },
      { name: "subnet_name", label: "Name", required: true },
      { name: "cidr", label: "CIDR", required: true, placeholder: "192.168.10.0/24" },
      { name: "gateway_ip", label: "Gateway IP", placeholder: "default: first address" },
      { name: "dhcp", label: "DHCP", type: "checkbox", value: true },
    ],
    cli: (v) => subnetCli(v, v.network || "NETWORK"),
    submit: async (v) => {
      await net("/subnets", { method: "POST", body: { subnet: subnetBody(v, v.network) } });
      toast(`Subnet ${v.subnet_name} created`);
      reload();
    },
  });
}

export function subnets(main) {
  let networksList = [];
  return listPage(main, {
    title: "Subnets",
    load: async () => {
      const [n, s] = await Promise.all([net("/networks"), net("/subnets")]);
      networksList = n.networks;
      return s.subnets;
    },
    columns: [
      { label: "Name", get: (s) => s.name || s.id },
      { label: "Network", get: (s) => nameOf(networksList, s.network_id) },
      { label: "CIDR", key: "cidr" },
      { label: "Gateway", key: "gateway_ip" },
      { label: "DHCP", get: (s) => (s.enable_dhcp ? "yes" : "no") },
      { label: "IP version", key: "ip_version" },
    ],
    actions: (s, reload) => [{ label: "Delete", rule: "write", danger: true, run: del(`/subnets/${s.id}`, `subnet ${s.name}`, reload) }],
    create: { label: "Create subnet", open: (reload) => createSubnet(reload) },
  });
}

export function routers(main) {
  let networksList = [];
  let subnetsList = [];
  let ports = [];
  return listPage(main, {
    title: "Routers",
    load: async () => {
      const [r, n, s, p] = await Promise.all([net("/routers"), net("/networks"), net("/subnets"), net("/ports", { query: { device_owner: "network:router_interface" } })]);
      networksList = n.networks;
      subnetsList = s.subnets;
      ports = p.ports;
      return r.routers;
    },
    columns: [
      { label: "Name", get: (r) => r.name || r.id },
      { label: "Status", get: (r) => r.status, html: (r) => statusBadge(r.status) },
      { label: "External gateway", get: (r) => (r.external_gateway_info ? `${nameOf(networksList, r.external_gateway_info.network_id)} ${(r.external_gateway_info.external_fixed_ips || []).map((i) => i.ip_address).join(", ")}` : "—") },
      { label: "Interfaces", get: (r) => ports.filter((p) => p.device_id === r.id).map((p) => (p.fixed_ips || []).map((i) => `${nameOf(subnetsList, i.subnet_id)} ${i.ip_address}`).join(", ")).join("; ") },
    ],
    actions: (r, reload) => [
      {
        label: "Add interface",
        rule: "write",
        run: () =>
          formDialog({
            title: `Add an interface to ${r.name}`,
            submitLabel: "Add",
            fields: [{ name: "subnet", label: "Subnet", type: "select", required: true, options: subnetsList.filter((s) => !networksList.find((n) => n.id === s.network_id && n["router:external"])).map((s) => [s.id, `${s.name || s.id} (${s.cidr})`]) }],
            cli: (v) => `openstack router add subnet ${shq(r.name || r.id)} ${shq(v.subnet || "SUBNET")}`,
            submit: async (v) => {
              await net(`/routers/${r.id}/add_router_interface`, { method: "PUT", body: { subnet_id: v.subnet } });
              toast("Interface added");
              reload();
            },
          }),
      },
      {
        label: "Remove interface",
        rule: "write",
        disabled: !ports.some((p) => p.device_id === r.id),
        run: () =>
          formDialog({
            title: `Remove an interface from ${r.name}`,
            submitLabel: "Remove",
            fields: [{ name: "port", label: "Interface", type: "select", required: true, options: ports.filter((p) => p.device_id === r.id).map((p) => [p.id, (p.fixed_ips || []).map((i) => i.ip_address).join(", ")]) }],
            cli: (v) => `openstack router remove port ${shq(r.name || r.id)} ${shq(v.port || "PORT")}`,
            submit: async (v) => {
              await net(`/routers/${r.id}/remove_router_interface`, { method: "PUT", body: { port_id: v.port } });
              reload();
            },
          }),
      },
      r.external_gateway_info
        ? { label: "Clear gateway", rule: "write", run: () => net(`/routers/${r.id}`, { method: "PUT", body: { router: { external_gateway_info: {} } } }).then(reload, fail) }
        : { label: "Set gateway", rule: "write", run: () => setGateway(r, networksList, reload) },
      { label: "Delete", rule: "write", danger: true, run: del(`/routers/${r.id}`, `router ${r.name}`, reload) },
    ],
    create: {
      label: "Create router",
      open: async (reload) => {
        const external = (await net("/networks", { query: { "router:external": true } })).networks;
        formDialog({
          title: "Create a router",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "gateway", label: "External network (gateway)", type: "select", options: external.map((n) => [n.id, n.name]), value: (external[0] || {}).id },
          ],
          cli: (v) => `openstack router create ${shq(v.name || "NAME")}${v.gateway ? `\nopenstack router set --external-gateway ${shq(nameOf(external, v.gateway))} ${shq(v.name || "NAME")}` : ""}`,
          submit: async (v) => {
            const router = { name: v.name };
            if (v.gateway) router.external_gateway_info = { network_id: v.gateway };
            await net("/routers", { method: "POST", body: { router } });
            toast(`Router ${v.name} created`);
            reload();
          },
        });
      },
    },
  });
}

function setGateway(r, networksList, reload) {
  const external = networksList.filter((n) => n["router:external"]);
  formDialog({
    title: `Set the gateway of ${r.name}`,
    submitLabel: "Set gateway",
    fields: [{ name: "network", label: "External network", type: "select", required: true, options: external.map((n) => [n.id, n.name]) }],
    cli: (v) => `openstack router set --external-gateway ${shq(v.network || "NETWORK")} ${shq(r.name || r.id)}`,
    submit: async (v) => {
      await net(`/routers/${r.id}`, { method: "PUT", body: { router: { external_gateway_info: { network_id: v.network } } } });
      reload();
    },
  });
}

export function securityGroups(main) {
  return listPage(main, {
    title: "Security groups",
    load: async () => (await net("/security-groups", { query: { project_id: getSession().project.id } })).security_groups,
    columns: [
      { label: "Name", key: "name" },
      { label: "Description", key: "description" },
      { label: "Rules", get: (g) => (g.security_group_rules || []).length },
    ],
    actions: (g, reload) => [
      { label: "Rules", run: () => rules(g, reload) },
      { label: "Delete", rule: "write", danger: true, disabled: g.name === "default", run: del(`/security-groups/${g.id}`, `security group ${g.name}`, reload) },
    ],
    create: {
      label: "Create security group",
      open: (reload) =>
        formDialog({
          title: "Create a security group",
          fields: [{ name: "name", label: "Name", required: true }, { name: "description", label: "Description" }],
          cli: (v) => `openstack security group create${v.description ? ` --description ${shq(v.description)}` : ""} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await net("/security-groups", { method: "POST", body: { security_group: { name: v.name, description: v.description } } });
            reload();
          },
        }),
    },
  });
}

async function rules(group, reload) {
  const describe = (r) => `${r.direction} ${r.ethertype} ${r.protocol || "any"} ${r.port_range_min ? `${r.port_range_min}-${r.port_range_max}` : ""} ${r.remote_ip_prefix || (r.remote_group_id ? `group ${r.remote_group_id.slice(0, 8)}` : "")}`;
  const tbl = table({
    label: `Rules of ${group.name}`,
    columns: [
      { label: "Direction", key: "direction" },
      { label: "Ether type", key: "ethertype" },
      { label: "Protocol", get: (r) => r.protocol || "any" },
      { label: "Ports", get: (r) => (r.port_range_min ? `${r.port_range_min}-${r.port_range_max}` : "any") },
      { label: "Remote", get: (r) => r.remote_ip_prefix || r.remote_group_id || "any" },
    ],
    actions: (r) => [{ label: "Delete", rule: "write", danger: true, run: () => net(`/security-group-rules/${r.id}`, { method: "DELETE" }).then(refresh, fail) }],
  });
  async function refresh() {
    const fresh = (await net(`/security-groups/${group.id}`)).security_group;
    tbl.set(fresh.security_group_rules || []);
    reload();
  }
  tbl.set(group.security_group_rules || []);
  const add = button("Add rule", () =>
    formDialog({
      title: `Add a rule to ${group.name}`,
      submitLabel: "Add",
      fields: [
        { name: "direction", label: "Direction", type: "select", required: true, options: ["ingress", "egress"], value: "ingress" },
        { name: "protocol", label: "Protocol", type: "select", options: ["tcp", "udp", "icmp"], value: "tcp" },
        { name: "port_min", label: "Port from", type: "number", min: 1, max: 65535 },
        { name: "port_max", label: "Port to", type: "number", min: 1, max: 65535 },
        { name: "remote_ip_prefix", label: "Remote CIDR", value: "0.0.0.0/0" },
        { name: "ethertype", label: "Ether type", type: "select", required: true, options: ["IPv4", "IPv6"], value: "IPv4" },
      ],
      cli: (v) => `openstack security group rule create --${v.direction}${v.protocol ? ` --protocol ${v.protocol}` : ""}${v.port_min ? ` --dst-port ${v.port_min}:${v.port_max || v.port_min}` : ""}${v.remote_ip_prefix ? ` --remote-ip ${shq(v.remote_ip_prefix)}` : ""} --ethertype ${v.ethertype} ${shq(group.name)}`,
      submit: async (v) => {
        const rule = { security_group_id: group.id, direction: v.direction, ethertype: v.ethertype };
        if (v.protocol) rule.protocol = v.protocol;
        if (v.port_min) Object.assign(rule, { port_range_min: v.port_min, port_range_max: v.port_max || v.port_min });
        if (v.remote_ip_prefix) rule.remote_ip_prefix = v.remote_ip_prefix;
        await net("/security-group-rules", { method: "POST", body: { security_group_rule: rule } });
        refresh();
      },
    }),
    { rule: "write" },
  );
  dialog(`Rules of ${group.name}`, h("div", {}, h("div", { class: "toolbar" }, add), tbl.el, h("p", { class: "sr-only" }, (group.security_group_rules || []).map(describe).join("; "))));
}

export function floatingIps(main) {
  let ports = [];
  return listPage(main, {
    title: "Floating IPs",
    load: async () => {
      const [f, p] = await Promise.all([net("/floatingips", { query: { project_id: getSession().project.id } }), net("/ports", { query: { project_id: getSession().project.id } })]);
      ports = p.ports;
      return f.floatingips;
    },
    columns: [
      { label: "Address", key: "floating_ip_address" },
      { label: "Fixed address", get: (f) => f.fixed_ip_address || "—" },
      { label: "Port", get: (f) => f.port_id || "—" },
      { label: "Status", get: (f) => f.status, html: (f) => statusBadge(f.status) },
    ],
    actions: (f, reload) => [
      f.port_id
        ? { label: "Disassociate", rule: "write", run: () => net(`/floatingips/${f.id}`, { method: "PUT", body: { floatingip: { port_id: null } } }).then(reload, fail) }
        : {
            label: "Associate",
            rule: "write",
            run: () =>
              formDialog({
                title: `Associate ${f.floating_ip_address}`,
                submitLabel: "Associate",
                fields: [{ name: "port", label: "Port", type: "select", required: true, options: ports.filter((p) => (p.device_owner || "").startsWith("compute:")).map((p) => [p.id, `${(p.fixed_ips[0] || {}).ip_address} (${p.device_id.slice(0, 8)})`]) }],
                cli: (v) => `openstack floating ip set --port ${shq(v.port || "PORT")} ${f.floating_ip_address}`,
                submit: async (v) => {
                  await net(`/floatingips/${f.id}`, { method: "PUT", body: { floatingip: { port_id: v.port } } });
                  reload();
                },
              }),
          },
      { label: "Release", rule: "write", danger: true, run: del(`/floatingips/${f.id}`, `floating IP ${f.floating_ip_address}`, reload) },
    ],
    create: {
      label: "Allocate IP",
      open: async (reload) => {
        const external = (await net("/networks", { query: { "router:external": true } })).networks;
        formDialog({
          title: "Allocate a floating IP",
          submitLabel: "Allocate",
          fields: [{ name: "pool", label: "Pool", type: "select", required: true, options: external.map((n) => [n.id, n.name]), value: (external[0] || {}).id }],
          cli: (v) => `openstack floating ip create ${shq(nameOf(external, v.pool))}`,
          submit: async (v) => {
            await net("/floatingips", { method: "POST", body: { floatingip: { floating_network_id: v.pool } } });
            reload();
          },
        });
      },
    },
  });
}

export function ports(main) {
  let networksList = [];
  return listPage(main, {
    title: "Ports",
    load: async () => {
      const [p, n] = await Promise.all([net("/ports"), net("/networks")]);
      networksList = n.networks;
      return p.ports;
    },
    columns: [
      { label: "Name", get: (p) => p.name || p.id.slice(0, 8) },
      { label: "Network", get: (p) => nameOf(networksList, p.network_id) },
      { label: "Fixed IPs", get: (p) => (p.fixed_ips || []).map((i) => i.ip_address).join(", ") },
      { label: "MAC", key: "mac_address" },
      { label: "Owner", key: "device_owner" },
      { label: "Status", get: (p) => p.status, html: (p) => statusBadge(p.status) },
    ],
    actions: (p, reload) => [{ label: "Delete", rule: "write", danger: true, disabled: (p.device_owner || "").startsWith("network:") && !can("admin"), run: del(`/ports/${p.id}`, `port ${p.name || p.id}`, reload) }],
    create: {
      label: "Create port",
      open: async (reload) => {
        const list = (await net("/networks")).networks;
        formDialog({
          title: "Create a port",
          fields: [{ name: "name", label: "Name", required: true }, { name: "network", label: "Network", type: "select", required: true, options: list.map((n) => [n.id, n.name]) }],
          cli: (v) => `openstack port create --network ${shq(v.network || "NETWORK")} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await net("/ports", { method: "POST", body: { port: { name: v.name, network_id: v.network } } });
            reload();
          },
        });
      },
    },
  });
}
