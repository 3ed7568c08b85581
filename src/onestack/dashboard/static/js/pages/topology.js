// The network topology: external networks, routers, networks and servers with their
// links (from the ports), redrawn live. Drawn as SVG in layers; no layout library.

import { api } from "../api.js";
import { hasService } from "../policy.js";
import { every, h } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

export async function render(main) {
  const svg = s("svg", { class: "graph", role: "img", "aria-labelledby": "topo-title topo-desc", id: "topology" });
  const title = s("title", { id: "topo-title" }, "Network topology");
  const desc = s("desc", { id: "topo-desc" }, "");
  const legend = h("p", { class: "muted", id: "topology-summary" });
  main.append(h("h1", {}, "Network topology"), legend, svg);
  let last = "";
  async function draw() {
    const [networks, routers, ports, servers] = await Promise.all([
      api("network", "/v2.0/networks").then((b) => b.networks),
      api("network", "/v2.0/routers").then((b) => b.routers),
      api("network", "/v2.0/ports").then((b) => b.ports),
      hasService("compute") ? api("compute", "/servers").then((b) => b.servers) : [],
    ]);
    const signature = JSON.stringify([networks.map((n) => [n.id, n.name]), routers.map((r) => [r.id, r.name, r.external_gateway_info]), ports.map((p) => [p.id, p.device_id, p.network_id]), servers.map((x) => [x.id, x.name])]);
    if (signature === last) return;
    last = signature;
    const nodes = new Map();
    const rows = [[], [], [], []];
    const add = (id, kind, name, row) => {
      const node = { id, kind, name: name || id.slice(0, 8), row };
      nodes.set(id, node);
      rows[row].push(node);
    };
    for (const n of networks) add(n.id, n["router:external"] ? "external" : "network", n.name, n["router:external"] ? 0 : 2);
    for (const r of routers) add(r.id, "router", r.name, 1);
    const serverIds = new Set(servers.map((x) => x.id));
    for (const x of servers) add(x.id, "server", x.name, 3);
    const links = new Set();
    for (const p of ports) {
      if (!nodes.has(p.network_id)) continue;
      if (nodes.has(p.device_id) && (serverIds.has(p.device_id) || (p.device_owner || "").startsWith("network:router"))) links.add(`${p.device_id}|${p.network_id}`);
    }
    for (const r of routers) if (r.external_gateway_info && nodes.has(r.external_gateway_info.network_id)) links.add(`${r.id}|${r.external_gateway_info.network_id}`);
    const width = Math.max(900, ...rows.map((row) => row.length * 150 + 100));
    const height = 520;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    rows.forEach((row, i) => row.forEach((node, j) => Object.assign(node, { x: ((j + 1) * width) / (row.length + 1), y: 60 + i * 130 })));
    const lines = [...links].map((key) => {
      const [a, b] = key.split("|");
      const from = nodes.get(a);
      const to = nodes.get(b);
      return s("line", { x1: from.x, y1: from.y, x2: to.x, y2: to.y, "data-from": from.name, "data-to": to.name, class: "link" });
    });
    const colors = { external: "#2f9e44", network: "#1c7ed6", router: "#e8590c", server: "#7048e8" };
    const shapes = [...nodes.values()].map((node) => {
      const g = s("g", { class: `node ${node.kind}`, "data-kind": node.kind, "data-name": node.name, transform: `translate(${node.x},${node.y})` });
      const wide = node.kind === "network" || node.kind === "external";
      g.append(
        s("rect", { x: wide ? -65 : -50, y: -18, width: wide ? 130 : 100, height: 36, rx: node.kind === "router" ? 18 : 5, fill: colors[node.kind], opacity: "0.9" }),
        s("text", { "text-anchor": "middle", y: 5, fill: "#fff", style: "fill:#fff" }, node.name.length > 16 ? node.name.slice(0, 15) + "…" : node.name),
        s("title", {}, `${node.kind}: ${node.name}`),
      );
      if (node.kind === "server") {
        g.style.cursor = "pointer";
        g.addEventListener("click", () => (location.hash = `#/compute/instances/${node.id}`));
      }
      return g;
    });
    svg.replaceChildren(title, desc, ...lines, ...shapes);
    const summary = `${rows[0].length + rows[2].length} networks, ${rows[1].length} routers, ${rows[3].length} servers, ${links.size} links`;
    desc.textContent = summary;
    legend.textContent = `${summary}. Green: external networks; blue: networks; orange: routers; purple: servers. Updated live.`;
  }
  await draw();
  return every(3000, draw);
}
