// Overview: the project's quota usage, telemetry charts over a period, and a usage table.

import { api } from "../api.js";
import { getSession, hasService, volumeService } from "../policy.js";
import { download, h, quotaBar, table } from "../ui.js";

const PERIODS = [
  ["1", "Last hour", 3600],
  ["24", "Last day", 86400],
  ["168", "Last week", 604800],
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
    const [, , seconds] = PERIODS.find((p) => p[0] === period.value);
    const end = new Date();
    const start = new Date(end.getTime() - seconds * 1000);
    const iso = (d) => d.toISOString().slice(0, 19);
    const jobs = [];
    const usage = hasService("compute")
      ? api("compute", `/os-simple-tenant-usage/${pid}`, { query: { start: iso(start), end: iso(end), detailed: 1 } })
          .then((body) => {
            usageRows = (body.tenant_usage && body.tenant_usage.server_usages) || [];
            usageTable.set(usageRows);
          })
          .catch(() => usageTable.set([]))
      : Promise.resolve();
    jobs.push(usage);
    if (hasService("metric")) {
      // the usage table names the servers in the charts' legends
      const drawn = usage.then(() => drawCharts(charts, pid, start, chartObjects, new Map(usageRows.map((r) => [r.instance_id, r.name]))));
      jobs.push(drawn.then((c) => (chartObjects = c)));
    }
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
  // the charts follow a change of theme (the system's or the toggle's)
  const recolor = () => chartObjects.forEach((chart) => colorChart(chart));
  const scheme = matchMedia("(prefers-color-scheme: dark)");
  scheme.addEventListener("change", recolor);
  const watcher = new MutationObserver(recolor);
  watcher.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  return () => {
    scheme.removeEventListener("change", recolor);
    watcher.disconnect();
    chartObjects.forEach((c) => c.destroy());
  };
}

function colorChart(chart) {
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue("--fg").trim();
  const line = style.getPropertyValue("--line").trim();
  chart.options.plugins.title.color = fg;
  chart.options.plugins.legend.labels.color = fg;
  for (const axis of ["x", "y"]) {
    chart.options.scales[axis].ticks.color = fg;
    chart.options.scales[axis].grid.color = line;
  }
  chart.update("none");
}

// [id, title, Ceilometer's meter, the Gnocchi resource type that has it, the attribute
// naming the server, cumulative?, scale of a value (per second for counters)]. Counters
// are asked for as means and turned into rates here, whatever the archive policy holds.
const METRICS = [
  ["cpu", "CPU (%)", "cpu", "instance", "id", true, (v) => v / 1e7],
  ["memory", "Memory (MiB)", "memory.usage", "instance", "id", false, (v) => v],
  ["disk", "Disk reads (bytes/s)", "disk.device.read.bytes", "instance_disk", "instance_id", true, (v) => v],
  ["network", "Network in (bytes/s)", "network.incoming.bytes", "instance_network_interface", "instance_id", true, (v) => v],
];

// the measures of the finest granularity the archive policy keeps, as chart points
function points(all, cumulative, scale) {
  const finest = Math.min(...all.map((m) => m[1]));
  const measures = all.filter((m) => m[1] === finest);
  const out = [];
  for (let i = 0; i < measures.length; i += 1) {
    const [t, , v] = measures[i];
    if (!cumulative) {
      out.push({ x: new Date(t).toLocaleTimeString(), y: v === null ? null : scale(v) });
    } else if (i > 0) {
      const [t0, , v0] = measures[i - 1];
      const seconds = (new Date(t) - new Date(t0)) / 1000;
      const rate = v === null || v0 === null || seconds <= 0 || v < v0 ? null : (v - v0) / seconds;
      out.push({ x: new Date(t).toLocaleTimeString(), y: rate === null ? null : scale(rate) });
    }
  }
  return out;
}

async function drawCharts(holder, pid, start, old, names) {
  old.forEach((c) => c.destroy());
  holder.replaceChildren();
  const { Chart, registerables } = await import("/vendor/js/chart.js/chart.esm.js");
  Chart.register(...registerables);
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue("--fg").trim();
  const line = style.getPropertyValue("--line").trim();
  const made = [];
  await Promise.all(
    METRICS.map(async ([id, label, metric, type, owner, cumulative, scale]) => {
      const canvas = h("canvas", { role: "img", "aria-label": `${label} chart` });
      const box = h("div", { class: "chart", id: `chart-${id.replace(/\W/g, "-")}` }, canvas);
      holder.append(box);
      let groups = [];
      try {
        // one call per metric for all the project's servers, grouped by server
        const body = await api("metric", `/v1/aggregation/resource/${type}/metric/${metric}`, {
          method: "POST",
          query: { aggregation: "mean", start: start.toISOString(), groupby: owner },
          body: { "=": { project_id: pid } },
        });
        groups = Array.isArray(body) && body.length && body[0].group ? body : [];
      } catch (e) {
        box.replaceChildren(h("p", { class: "muted" }, `${label}: ${e.message}`));
        return;
      }
      if (!groups.length || !groups.some((g) => (g.measures || []).length)) {
        box.replaceChildren(h("p", { class: "muted" }, `${label}: no measures in this period yet.`));
        return;
      }
      const palette = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d"];
      const datasets = groups.map((g, i) => ({
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        borderWidth: 2,
        label: names.get(g.group[owner]) || String(g.group[owner]).slice(0, 8),
        data: points(g.measures || [], cumulative, scale),
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

