// Overview: the project's quota usage, telemetry charts over a period, and a usage table.

import { api } from "../api.js";
import { getSession, hasService, volumeService } from "../policy.js";
import { download, h, quotaBar, table } from "../ui.js";

const PERIODS = [
  ["1", "Last hour", 3600, 60],
  ["24", "Last day", 86400, 300],
  ["168", "Last week", 604800, 3600],
];

export async function render(main) {
  const session = getSession();
  const bars = h("div", { class: "bars", id: "quota-bars" });
  const period = h("select", { id: "period", "aria-label": "Period" }, PERIODS.map(([v, label]) => h("option", { value: v }, label)));
  const charts = h("div", { class: "charts" });
  const usageHolder = h("div");
  const csv = h("button", { type: "button" }, "Download CSV");
  main.append(
    h("h1", {}, `Overview of ${session.project.name}`),
    h("section", { "aria-labelledby": "quota-h" }, h("h2", { id: "quota-h" }, "Quota usage"), bars),
    h("div", { class: "toolbar" }, h("label", { for: "period" }, "Period "), period),
  );
  if (hasService("metric")) main.append(h("section", { "aria-labelledby": "charts-h" }, h("h2", { id: "charts-h" }, "Servers' metrics"), charts));
  main.append(h("section", { "aria-labelledby": "usage-h" }, h("h2", { id: "usage-h" }, "Usage"), h("div", { class: "toolbar" }, csv), usageHolder));

  const pid = session.project.id;
  const volume = volumeService();
  const quotas = Promise.all([
    hasService("compute") ? api("compute", "/limits").catch(() => null) : null,
    hasService("network") ? api("network", `/v2.0/quotas/${pid}/details.json`).catch(() => null) : null,
    volume ? api(volume, "/limits").catch(() => null) : null,
  ]);
  let usageRows = [];
  const usageTable = table({
    label: "Usage per server",
    key: (r) => r.instance_id,
    columns: [
      { label: "Server", key: "name" },
      { label: "vCPUs", key: "vcpus" },
      { label: "RAM (MiB)", key: "memory_mb" },
      { label: "Disk (GB)", key: "local_gb" },
      { label: "State", key: "state" },
      { label: "Hours", get: (r) => Number(r.hours || 0).toFixed(2), sort: (r) => r.hours },
    ],
    empty: "No server ran in this period.",
  });
  usageHolder.append(usageTable.el);
  csv.addEventListener("click", () => {
    const head = "server,id,vcpus,memory_mb,local_gb,state,hours\n";
    const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
    const body = usageRows.map((r) => [r.name, r.instance_id, r.vcpus, r.memory_mb, r.local_gb, r.state, Number(r.hours || 0).toFixed(4)].map(quote).join(",")).join("\n");
    download(`usage-${session.project.name}.csv`, head + body + "\n", "text/csv");
  });

  let chartObjects = [];
  async function load() {
    const [, , seconds, granularity] = PERIODS.find((p) => p[0] === period.value);
    const end = new Date();
    const start = new Date(end.getTime() - seconds * 1000);
    const iso = (d) => d.toISOString().slice(0, 19);
    const jobs = [];
    if (hasService("compute")) {
      jobs.push(
        api("compute", `/os-simple-tenant-usage/${pid}`, { query: { start: iso(start), end: iso(end), detailed: 1 } })
          .then((body) => {
            usageRows = (body.tenant_usage && body.tenant_usage.server_usages) || [];
            usageTable.set(usageRows);
          })
          .catch(() => usageTable.set([])),
      );
    }
    if (hasService("metric")) jobs.push(drawCharts(charts, pid, start, granularity, chartObjects).then((c) => (chartObjects = c)));
    await Promise.all(jobs);
  }
  period.addEventListener("change", load);
  // the usage table and the charts load while the quota bars are drawn
  const rest = load();
  const [compute, network, block] = await quotas;
  const items = [];
  if (compute) {
    const a = compute.limits.absolute;
    items.push(["Instances", a.totalInstancesUsed, a.maxTotalInstances], ["vCPUs", a.totalCoresUsed, a.maxTotalCores], ["RAM (MiB)", a.totalRAMUsed, a.maxTotalRAMSize]);
  }
  if (block) {
    const a = block.limits.absolute;
    items.push(["Volumes", a.totalVolumesUsed, a.maxTotalVolumes], ["Volume gigabytes", a.totalGigabytesUsed, a.maxTotalVolumeGigabytes], ["Volume snapshots", a.totalSnapshotsUsed, a.maxTotalSnapshots]);
  }
  if (network) {
    const q = network.quota;
    const pick = (name, label) => q[name] && items.push([label, q[name].used, q[name].limit]);
    pick("floatingip", "Floating IPs");
    pick("network", "Networks");
    pick("port", "Ports");
    pick("router", "Routers");
    pick("security_group", "Security groups");
  }
  bars.replaceChildren(...items.map(([label, used, limit]) => quotaBar(label, used ?? 0, limit)));

  await rest;
  return () => chartObjects.forEach((c) => c.destroy());
}

const METRICS = [
  ["cpu_util", "CPU (%)", "cpu", "rate:mean", (v, g) => (v / (g * 1e9)) * 100],
  ["memory.usage", "Memory (MiB)", "memory.usage", "mean", (v) => v],
  ["disk", "Disk read+write (bytes/s)", "disk.device.read.bytes", "rate:mean", (v, g) => v / g],
  ["network", "Network in (bytes/s)", "network.incoming.bytes", "rate:mean", (v, g) => v / g],
];

async function drawCharts(holder, pid, start, granularity, old) {
  old.forEach((c) => c.destroy());
  holder.replaceChildren();
  const { Chart, registerables } = await import("/vendor/js/chart.js/chart.esm.js");
  Chart.register(...registerables);
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue("--fg").trim();
  const line = style.getPropertyValue("--line").trim();
  const made = [];
  await Promise.all(
    METRICS.map(async ([id, label, metric, aggregation, scale]) => {
      const canvas = h("canvas", { role: "img", "aria-label": `${label} chart` });
      const box = h("div", { class: "chart", id: `chart-${id.replace(/\W/g, "-")}` }, canvas);
      holder.append(box);
      let groups = [];
      try {
        // one call per metric for all the project's servers, grouped by server
        const body = await api("metric", `/v1/aggregation/resource/instance/metric/${metric}`, {
          method: "POST",
          query: { aggregation, granularity, start: start.toISOString(), groupby: "id", fill: "null" },
          body: { "=": { project_id: pid } },
        });
        groups = Array.isArray(body) && body.length && body[0].group ? body : [{ group: { id: "all" }, measures: body }];
      } catch (e) {
        box.append(h("p", { class: "muted" }, `${label}: ${e.message}`));
        return;
      }
      const datasets = groups.map((g) => ({
        label: g.group.id.slice(0, 8),
        data: (g.measures || []).map(([t, gr, v]) => ({ x: new Date(t).toLocaleTimeString(), y: v === null ? null : scale(v, gr) })),
        spanGaps: true,
        pointRadius: 0,
      }));
      made.push(
        new Chart(canvas, {
          type: "line",
          data: { labels: (datasets[0] ? datasets[0].data : []).map((p) => p.x), datasets },
          options: {
            animation: false,
            maintainAspectRatio: false,
            plugins: { title: { display: true, text: label, color: fg }, legend: { labels: { color: fg } } },
            scales: { x: { ticks: { color: fg }, grid: { color: line } }, y: { ticks: { color: fg }, grid: { color: line }, beginAtZero: true } },
          },
        }),
      );
    }),
  );
  return made;
}

