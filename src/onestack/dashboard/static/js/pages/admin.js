// Admin views: hypervisors, services and agents (up/down), all projects' usage,
// flavors, quotas.

import { api } from "../api.js";
import { hasService, volumeService } from "../policy.js";
import { confirm, download, fail, formDialog, h, nameOf, shq, statusBadge, table, toast } from "../ui.js";
import { listPage } from "./common.js";

export function hypervisors(main) {
  return listPage(main, {
    title: "Hypervisors",
    load: async () => (await api("compute", "/os-hypervisors/detail")).hypervisors,
    columns: [
      { label: "Host", get: (x) => x.hypervisor_hostname },
      { label: "Type", key: "hypervisor_type" },
      { label: "State", get: (x) => x.state, html: (x) => statusBadge(x.state) },
      { label: "Status", get: (x) => x.status, html: (x) => statusBadge(x.status) },
      { label: "vCPUs (used/total)", get: (x) => (x.vcpus !== undefined ? `${x.vcpus_used}/${x.vcpus}` : "") },
      { label: "RAM MiB (used/total)", get: (x) => (x.memory_mb !== undefined ? `${x.memory_mb_used}/${x.memory_mb}` : "") },
      { label: "Servers", get: (x) => (x.running_vms ?? (x.servers || []).length) },
      { label: "Host IP", key: "host_ip" },
    ],
  });
}

export function services(main) {
  return listPage(main, {
    title: "Services and agents",
    key: (s) => `${s.kind}|${s.id}`,
    poll: 10000,
    load: async () => {
      const volume = volumeService();
      const [compute, agents, block] = await Promise.all([
        hasService("compute") ? api("compute", "/os-services").then((b) => b.services).catch(() => []) : [],
        hasService("network") ? api("network", "/v2.0/agents").then((b) => b.agents).catch(() => []) : [],
        volume ? api(volume, "/os-services").then((b) => b.services).catch(() => []) : [],
      ]);
      return [
        ...compute.map((s) => ({ kind: "compute", id: s.id, name: s.binary, host: s.host, zone: s.zone, status: s.status, state: s.state, updated: s.updated_at })),
        ...agents.map((a) => ({ kind: "network", id: a.id, name: a.binary || a.agent_type, host: a.host, zone: a.availability_zone || "", status: a.admin_state_up ? "enabled" : "disabled", state: a.alive ? "up" : "down", updated: a.heartbeat_timestamp })),
        ...block.map((s, i) => ({ kind: "volume", id: `${s.binary}-${s.host}-${i}`, name: s.binary, host: s.host, zone: s.zone, status: s.status, state: s.state, updated: s.updated_at })),
      ];
    },
    columns: [
      { label: "Service", key: "kind" },
      { label: "Binary", key: "name" },
      { label: "Host", key: "host" },
      { label: "Zone", key: "zone" },
      { label: "Status", get: (s) => s.status, html: (s) => statusBadge(s.status) },
      { label: "State", get: (s) => s.state, html: (s) => statusBadge(s.state) },
      { label: "Last seen", get: (s) => s.updated || "" },
    ],
  });
}

export async function usage(main) {
  const [projects] = await Promise.all([api("identity", "/projects").then((b) => b.projects).catch(() => [])]);
  const start = h("input", { type: "date", id: "usage-start", "aria-label": "From" });
  const end = h("input", { type: "date", id: "usage-end", "aria-label": "To" });
  const today = new Date();
  end.value = today.toISOString().slice(0, 10);
  start.value = new Date(today.getTime() - 30 * 86400000).toISOString().slice(0, 10);
  let rows = [];
  const tbl = table({
    label: "Usage of all projects",
    key: (r) => r.tenant_id,
    columns: [
      { label: "Project", get: (r) => nameOf(projects, r.tenant_id) },
      { label: "Servers", get: (r) => (r.server_usages || []).length },
      { label: "vCPU hours", get: (r) => Number(r.total_vcpus_usage || 0).toFixed(2), sort: (r) => r.total_vcpus_usage },
      { label: "RAM MiB-hours", get: (r) => Number(r.total_memory_mb_usage || 0).toFixed(0), sort: (r) => r.total_memory_mb_usage },
      { label: "Disk GB-hours", get: (r) => Number(r.total_local_gb_usage || 0).toFixed(2), sort: (r) => r.total_local_gb_usage },
      { label: "Hours", get: (r) => Number(r.total_hours || 0).toFixed(2), sort: (r) => r.total_hours },
    ],
  });
  const load = async () => {
    rows = (await api("compute", "/os-simple-tenant-usage", { query: { start: `${start.value}T00:00:00`, end: `${end.value}T23:59:59`, detailed: 1 } })).tenant_usages || [];
    tbl.set(rows);
  };
  const csv = h("button", { type: "button" }, "Download CSV");
  csv.addEventListener("click", () => {
    const lines = rows.map((r) => [nameOf(projects, r.tenant_id), r.tenant_id, (r.server_usages || []).length, r.total_vcpus_usage, r.total_memory_mb_usage, r.total_local_gb_usage, r.total_hours].map((v) => `"${String(v ?? "").replace(/"/g, '""')}"`).join(","));
    download("usage.csv", ["project,project_id,servers,vcpu_hours,memory_mb_hours,disk_gb_hours,hours", ...lines].join("\n") + "\n", "text/csv");
  });
  start.addEventListener("change", () => load().catch(fail));
  end.addEventListener("change", () => load().catch(fail));
  main.append(h("h1", {}, "Usage"), h("div", { class: "toolbar" }, h("label", { for: "usage-start" }, "From"), start, h("label", { for: "usage-end" }, "To"), end, csv), tbl.el);
  await load();
}

export function flavors(main) {
  return listPage(main, {
    title: "Flavors",
    load: async () => (await api("compute", "/flavors/detail", { query: { is_public: "None" } })).flavors,
    columns: [
      { label: "Name", key: "name" },
      { label: "vCPUs", key: "vcpus" },
      { label: "RAM (MiB)", key: "ram" },
      { label: "Disk (GB)", key: "disk" },
      { label: "Ephemeral", get: (f) => f["OS-FLV-EXT-DATA:ephemeral"] ?? 0 },
      { label: "Public", get: (f) => (f["os-flavor-access:is_public"] === false ? "no" : "yes") },
      { label: "ID", key: "id" },
    ],
    actions: (f, reload) => [{ label: "Delete", rule: "admin", danger: true, run: async () => (await confirm(`Delete flavor ${f.name}?`, "Delete")) && api("compute", `/flavors/${f.id}`, { method: "DELETE" }).then(reload, fail) }],
    create: {
      label: "Create flavor",
      rule: "admin",
      open: (reload) =>
        formDialog({
          title: "Create a flavor",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "vcpus", label: "vCPUs", type: "number", min: 1, value: 1, required: true },
            { name: "ram", label: "RAM (MiB)", type: "number", min: 1, value: 512, required: true },
            { name: "disk", label: "Disk (GB)", type: "number", min: 0, value: 1, required: true },
            { name: "public", label: "Public", type: "checkbox", value: true },
          ],
          cli: (v) => `openstack flavor create --vcpus ${v.vcpus} --ram ${v.ram} --disk ${v.disk} ${v.public ? "--public" : "--private"} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await api("compute", "/flavors", { method: "POST", body: { flavor: { name: v.name, vcpus: v.vcpus, ram: v.ram, disk: v.disk, "os-flavor-access:is_public": v.public } } });
            reload();
          },
        }),
    },
  });
}

const QUOTAS = [
  ["compute", "instances", "Instances", "--instances"],
  ["compute", "cores", "vCPUs", "--cores"],
  ["compute", "ram", "RAM (MiB)", "--ram"],
  ["compute", "key_pairs", "Key pairs", "--key-pairs"],
  ["volume", "volumes", "Volumes", "--volumes"],
  ["volume", "gigabytes", "Volume gigabytes", "--gigabytes"],
  ["volume", "snapshots", "Volume snapshots", "--snapshots"],
  ["volume", "backups", "Backups", "--backups"],
  ["network", "network", "Networks", "--networks"],
  ["network", "subnet", "Subnets", "--subnets"],
  ["network", "port", "Ports", "--ports"],
  ["network", "router", "Routers", "--routers"],
  ["network", "floatingip", "Floating IPs", "--floating-ips"],
  ["network", "security_group", "Security groups", "--secgroups"],
];

export async function quotas(main) {
  const projects = (await api("identity", "/projects")).projects;
  const volume = volumeService();
  const tbl = table({
    label: "Quotas per project",
    columns: [{ label: "Project", key: "name" }, { label: "Instances", key: "instances" }, { label: "vCPUs", key: "cores" }, { label: "RAM", key: "ram" }, { label: "Volumes", key: "volumes" }, { label: "Networks", key: "network" }, { label: "Floating IPs", key: "floatingip" }],
    actions: (p) => [{ label: "Edit", rule: "admin", run: () => edit(p) }],
  });
  async function load() {
    // one quota-set call per service and project: quotas have no list API
    const rows = await Promise.all(
      projects.map(async (p) => {
        const [c, v, n] = await Promise.all([
          hasService("compute") ? api("compute", `/os-quota-sets/${p.id}`).then((b) => b.quota_set).catch(() => ({})) : {},
          volume ? api(volume, `/os-quota-sets/${p.id}`).then((b) => b.quota_set).catch(() => ({})) : {},
          hasService("network") ? api("network", `/v2.0/quotas/${p.id}`).then((b) => b.quota).catch(() => ({})) : {},
        ]);
        return { id: p.id, name: p.name, ...c, ...v, ...n, id_: p.id, _c: c, _v: v, _n: n };
      }),
    );
    tbl.set(rows.map((r) => ({ ...r, id: r.id_ })));
  }
  function edit(p) {
    const fields = QUOTAS.filter(([svc]) => (svc === "volume" ? volume : hasService(svc))).map(([svc, key, label]) => ({ name: `${svc}:${key}`, label, type: "number", min: -1, value: (svc === "compute" ? p._c : svc === "volume" ? p._v : p._n)[key] }));
    formDialog({
      title: `Quotas of ${p.name}`,
      submitLabel: "Save",
      fields,
      cli: (v) => `openstack quota set ${QUOTAS.filter(([svc, key]) => v[`${svc}:${key}`] !== undefined && v[`${svc}:${key}`] !== null).map(([svc, key, , flag]) => `${flag} ${v[`${svc}:${key}`]}`).join(" ")} ${shq(p.name)}`,
      submit: async (v) => {
        const pick = (svc) => Object.fromEntries(QUOTAS.filter(([s, key]) => s === svc && v[`${s}:${key}`] !== undefined && v[`${s}:${key}`] !== null).map(([, key]) => [key, v[`${svc}:${key}`]]));
        const jobs = [];
        if (hasService("compute")) jobs.push(api("compute", `/os-quota-sets/${p.id}`, { method: "PUT", body: { quota_set: pick("compute") } }));
        if (volume) jobs.push(api(volume, `/os-quota-sets/${p.id}`, { method: "PUT", body: { quota_set: pick("volume") } }));
        if (hasService("network")) jobs.push(api("network", `/v2.0/quotas/${p.id}`, { method: "PUT", body: { quota: pick("network") } }));
        await Promise.all(jobs);
        toast("Quotas saved");
        await load();
      },
    });
  }
  main.append(h("h1", {}, "Quotas"), tbl.el);
  await load();
}
