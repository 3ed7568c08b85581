// Orchestration (Heat v1): launch a stack from a template (file, URL or text) with a
// form made from its parameters; stacks, resources, events, outputs, a resource graph,
// update and delete.

import { api } from "../api.js";
import { button, confirm, esc, every, fail, formDialog, h, props, shq, statusBadge, table, tabs, toast, when } from "../ui.js";
import { listPage } from "./common.js";

const heat = (path, options) => api("orchestration", path, options);

export function render(main, id) {
  if (id) return detail(main, id);
  return listPage(main, {
    title: "Stacks",
    poll: 4000,
    load: async () => (await heat("/stacks")).stacks,
    columns: [
      { label: "Name", get: (s) => s.stack_name, html: (s) => `<a href="#/orchestration/stacks/${esc(encodeURIComponent(`${s.stack_name}/${s.id}`))}">${esc(s.stack_name)}</a>` },
      { label: "Status", get: (s) => s.stack_status, html: (s) => statusBadge(s.stack_status) },
      { label: "Created", get: (s) => s.creation_time, html: (s) => esc(when(s.creation_time)) },
      { label: "Updated", get: (s) => s.updated_time || "", html: (s) => esc(when(s.updated_time)) },
    ],
    actions: (s, reload) => [
      { label: "Update", rule: "write", run: () => launch(reload, s) },
      { label: "Delete", rule: "write", danger: true, run: async () => (await confirm(`Delete stack ${s.stack_name}?`, "Delete")) && heat(`/stacks/${encodeURIComponent(s.stack_name)}/${s.id}`, { method: "DELETE" }).then(reload, fail) },
    ],
    create: { label: "Launch stack", open: (reload) => launch(reload) },
  });
}

// Step 1: the template; step 2: a form generated from its parameters.
function launch(reload, stack) {
  formDialog({
    title: stack ? `Update ${stack.stack_name}: template` : "Launch a stack: template",
    submitLabel: "Next",
    fields: [
      { name: "source", label: "Template source", type: "select", required: true, options: [["text", "Text"], ["file", "File"], ["url", "URL"]], value: "text" },
      { name: "text", label: "Template text", type: "textarea", rows: 12 },
      { name: "file", label: "Template file", type: "file" },
      { name: "url", label: "Template URL", type: "url" },
    ],
    submit: async (v) => {
      const template = await readTemplate(v);
      const validated = await heat("/validate", { method: "POST", body: template });
      parametersForm(reload, template, validated.Parameters || {}, stack, v);
    },
  });
}

async function readTemplate(v) {
  if (v.source === "url") {
    if (!v.url) throw new Error("Give the template's URL.");
    return { template_url: v.url };
  }
  const text = v.source === "file" ? (v.file ? await v.file.text() : "") : v.text;
  if (!text) throw new Error("Give the template.");
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch (_) {
    parsed = null;
  }
  return { template: parsed || text };
}

function parametersForm(reload, template, params, stack, source) {
  const fields = [];
  if (!stack) fields.push({ name: "__name", label: "Stack name", required: true });
  for (const [name, p] of Object.entries(params)) {
    const label = p.Label || name;
    const allowed = (p.AllowedValues || (p.Constraints || []).flatMap((c) => c.AllowedValues || [])) || [];
    const base = { name: `p_${name}`, label, help: p.Description, value: p.Default ?? "", required: p.Default === undefined };
    if (allowed.length) fields.push({ ...base, type: "select", options: allowed.map(String) });
    else if (p.Type === "Number") fields.push({ ...base, type: "number" });
    else if (p.NoEcho === "true" || p.NoEcho === true) fields.push({ ...base, type: "password" });
    else fields.push(base);
  }
  fields.push({ name: "__timeout", label: "Timeout (minutes)", type: "number", min: 1, value: 60 });
  formDialog({
    title: stack ? `Update ${stack.stack_name}: parameters` : "Launch a stack: parameters",
    submitLabel: stack ? "Update" : "Launch",
    fields,
    cli: (v) => {
      const file = source.source === "url" ? `--template ${shq(source.url)}` : "-t template.yaml";
      const ps = Object.keys(params).filter((n) => v[`p_${n}`] !== "" && v[`p_${n}`] !== null).map((n) => `--parameter ${shq(`${n}=${v[`p_${n}`]}`)}`);
      return `openstack stack ${stack ? "update" : "create"} ${file} ${ps.join(" ")} --timeout ${v.__timeout || 60} ${shq(stack ? stack.stack_name : v.__name || "NAME")}`;
    },
    submit: async (v) => {
      const parameters = {};
      for (const name of Object.keys(params)) if (v[`p_${name}`] !== "" && v[`p_${name}`] !== null) parameters[name] = v[`p_${name}`];
      const body = { ...template, parameters, timeout_mins: v.__timeout || 60 };
      if (stack) {
        await heat(`/stacks/${encodeURIComponent(stack.stack_name)}/${stack.id}`, { method: "PUT", body });
        toast(`Updating ${stack.stack_name}`);
      } else {
        body.stack_name = v.__name;
        const created = await heat("/stacks", { method: "POST", body });
        toast(`Launching ${v.__name}`);
        location.hash = `#/orchestration/stacks/${encodeURIComponent(`${v.__name}/${created.stack.id}`)}`;
      }
      reload();
    },
  });
}

async function detail(main, ref) {
  const path = `/stacks/${ref.split("/").map(encodeURIComponent).join("/")}`;
  let stack = (await heat(path)).stack;
  const status = h("span", { id: "stack-status" });
  const show = () => (status.innerHTML = statusBadge(stack.stack_status));
  show();
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/orchestration/stacks" }, "Stacks")),
    h("h1", {}, stack.stack_name),
    h("p", {}, "Status: ", status, " ", h("span", { class: "muted" }, stack.stack_status_reason || "")),
    h("div", { class: "toolbar" }, button("Update", () => launch(() => {}, stack), { rule: "write" }), button("Delete", async () => {
      if (await confirm(`Delete stack ${stack.stack_name}?`, "Delete")) heat(path, { method: "DELETE" }).then(() => (location.hash = "#/orchestration/stacks"), fail);
    }, { danger: true, rule: "write" })),
  );
  const outputs = (panel) => {
    const list = stack.outputs || [];
    const tbl = table({
      label: "Outputs",
      key: (o) => o.output_key,
      columns: [
        { label: "Output", key: "output_key" },
        { label: "Value", get: (o) => (typeof o.output_value === "object" ? JSON.stringify(o.output_value) : String(o.output_value ?? "")) },
        { label: "Description", get: (o) => o.description || "" },
      ],
      empty: stack.stack_status.endsWith("IN_PROGRESS") ? "Outputs appear when the stack is complete." : "This stack has no outputs.",
    });
    tbl.set(list);
    panel.append(tbl.el);
  };
  const resourcesTab = async (panel) => {
    const list = (await heat(`${path}/resources`)).resources;
    const tbl = table({
      label: "Resources",
      key: (r) => r.resource_name,
      columns: [
        { label: "Resource", key: "resource_name" },
        { label: "Type", key: "resource_type" },
        { label: "Physical ID", key: "physical_resource_id" },
        { label: "Status", get: (r) => r.resource_status, html: (r) => statusBadge(r.resource_status) },
        { label: "Reason", get: (r) => r.resource_status_reason || "" },
      ],
    });
    tbl.set(list);
    panel.append(tbl.el);
  };
  const eventsTab = async (panel) => {
    const list = (await heat(`${path}/events`, { query: { sort_dir: "desc" } })).events;
    const tbl = table({
      label: "Events",
      columns: [
        { label: "Time", get: (e) => e.event_time, html: (e) => esc(when(e.event_time)) },
        { label: "Resource", key: "resource_name" },
        { label: "Status", get: (e) => e.resource_status, html: (e) => statusBadge(e.resource_status) },
        { label: "Reason", get: (e) => e.resource_status_reason || "" },
      ],
    });
    tbl.set(list);
    panel.append(tbl.el);
  };
  const graphTab = async (panel) => {
    const list = (await heat(`${path}/resources`)).resources;
    panel.append(resourceGraph(list));
  };
  const overview = (panel) =>
    panel.append(props([["ID", stack.id], ["Status", stack.stack_status], ["Reason", stack.stack_status_reason], ["Created", when(stack.creation_time)], ["Parameters", JSON.stringify(stack.parameters || {})], ["Description", stack.description]]));
  let panes = tabs([
    { label: "Overview", render: overview },
    { label: "Outputs", render: outputs },
    { label: "Resources", render: resourcesTab },
    { label: "Events", render: eventsTab },
    { label: "Graph", render: graphTab },
  ]);
  main.append(panes);
  let last = stack.stack_status;
  const stop = every(3000, async () => {
    stack = (await heat(path)).stack;
    show();
    if (stack.stack_status !== last) {
      last = stack.stack_status;
      const selected = panes.querySelector('[role="tab"][aria-selected="true"]');
      selected.click();
    }
  });
  return () => {
    stop();
    panes.dispose();
  };
}

// Resources in layers by dependency (required_by), links drawn between them.
function resourceGraph(resources) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "graph");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Resource graph: ${resources.map((r) => r.resource_name).join(", ")}`);
  const byName = new Map(resources.map((r) => [r.resource_name, r]));
  const depth = new Map();
  const level = (r, seen = new Set()) => {
    if (depth.has(r.resource_name)) return depth.get(r.resource_name);
    if (seen.has(r.resource_name)) return 0;
    seen.add(r.resource_name);
    const parents = resources.filter((x) => (x.required_by || []).includes(r.resource_name));
    const d = parents.length ? 1 + Math.max(...parents.map((p) => level(p, seen))) : 0;
    depth.set(r.resource_name, d);
    return d;
  };
  resources.forEach((r) => level(r));
  const layers = [];
  for (const r of resources) (layers[depth.get(r.resource_name)] ||= []).push(r);
  const width = Math.max(800, ...layers.map((l) => l.length * 200));
  svg.setAttribute("viewBox", `0 0 ${width} ${Math.max(200, layers.length * 110 + 40)}`);
  const pos = new Map();
  layers.forEach((layer, i) => layer.forEach((r, j) => pos.set(r.resource_name, [((j + 1) * width) / (layer.length + 1), 50 + i * 110])));
  const mk = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  };
  for (const r of resources) {
    for (const child of r.required_by || []) {
      if (!byName.has(child)) continue;
      const [x1, y1] = pos.get(r.resource_name);
      const [x2, y2] = pos.get(child);
      svg.append(mk("line", { x1, y1, x2, y2 }));
    }
  }
  for (const r of resources) {
    const [x, y] = pos.get(r.resource_name);
    const ok = (r.resource_status || "").endsWith("COMPLETE");
    const g = mk("g", { transform: `translate(${x},${y})`, "data-name": r.resource_name });
    g.append(mk("rect", { x: -80, y: -20, width: 160, height: 40, rx: 6, fill: ok ? "#2f9e44" : r.resource_status.includes("FAILED") ? "#c92a2a" : "#e67700" }), mk("text", { "text-anchor": "middle", y: -2, style: "fill:#fff" }, r.resource_name), mk("text", { "text-anchor": "middle", y: 13, style: "fill:#fff;font-size:10px" }, r.resource_type));
    svg.append(g);
  }
  return svg;
}
