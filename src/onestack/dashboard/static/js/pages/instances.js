// Instances: a live list (changes-since polling), filters, bulk actions, the launch
// form with quota, and the detail page with every action, logs and consoles.

import { all, api, own } from "../api.js";
import { can, getSession, hasService, volumeService } from "../policy.js";
import {
  button, clear, confirm, esc, fail, filterBox, formDialog, h, props, shq, statusBadge, table, tabs, toast, when, every, loadScript, loadStyle, nameOf,
} from "../ui.js";

const BUSY = new Set(["BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "REBUILD", "MIGRATING", "VERIFY_RESIZE", "REVERT_RESIZE"]);

function isBusy(server) {
  return BUSY.has(server.status) || !!server["OS-EXT-STS:task_state"];
}

function addresses(server) {
  return Object.entries(server.addresses || {})
    .map(([net, list]) => list.map((a) => `${a.addr}${a["OS-EXT-IPS:type"] === "floating" ? " (floating)" : ""}`).join(", ") + ` on ${net}`)
    .join("; ");
}

function statusOf(server) {
  const task = server["OS-EXT-STS:task_state"];
  return statusBadge(server.status) + (task ? ` <span class="muted">${esc(task)}</span>` : "");
}

export async function render(main, id) {
  if (id) return detail(main, id);
  const servers = new Map();
  let images = [];
  const tbl = table({
    label: "Instances",
    select: can("write"),
    columns: [
      { label: "Name", get: (s) => s.name, html: (s) => `<a href="#/compute/instances/${esc(s.id)}">${esc(s.name)}</a>` },
      { label: "Image", get: (s) => (s.image && s.image.id ? nameOf(images, s.image.id) : "(volume)") },
      { label: "IP addresses", get: addresses },
      { label: "Flavor", get: (s) => (s.flavor && (s.flavor.original_name || s.flavor.id)) || "" },
      { label: "Status", get: (s) => s.status, html: statusOf },
      { label: "Power", get: (s) => ({ 0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED" })[s["OS-EXT-STS:power_state"]] || "" },
      { label: "Created", get: (s) => s.created, html: (s) => esc(when(s.created)) },
    ],
    actions: (s) => [
      s.status === "SHUTOFF" ? { label: "Start", rule: "write", run: () => act([s.id], "os-start") } : { label: "Stop", rule: "write", run: () => act([s.id], "os-stop"), disabled: s.status !== "ACTIVE" },
      { label: "Delete", rule: "write", danger: true, run: () => remove([s.id]) },
    ],
    empty: "No instances. Launch one.",
  });
  const status = h("select", { "aria-label": "Status filter", id: "status-filter" }, ["", "ACTIVE", "BUILD", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR"].map((s) => h("option", { value: s }, s || "All statuses")));
  const text = filterBox(tbl, "Filter instances");
  const applyFilter = () => tbl.filter(text.value, status.value ? (s) => s.status === status.value : null);
  text.addEventListener("input", applyFilter);
  status.addEventListener("change", applyFilter);
  const bulk = h("div", { class: "toolbar", role: "group", "aria-label": "Bulk actions" });
  const bulkButtons = [
    ["Start", (ids) => act(ids, "os-start")],
    ["Stop", (ids) => act(ids, "os-stop")],
    ["Reboot", (ids) => act(ids, "reboot", { type: "SOFT" })],
    ["Pause", (ids) => act(ids, "pause")],
    ["Resume", (ids) => act(ids, "unpause")],
    ["Delete", (ids) => remove(ids)],
  ].map(([label, fn]) => {
    const b = h("button", { type: "button", disabled: true, class: label === "Delete" ? "danger" : "" }, `${label} selected`);
    b.addEventListener("click", () => fn([...tbl.selected]));
    return b;
  });
  if (can("write")) bulk.append(...bulkButtons);
  tbl.onSelect((sel) => bulkButtons.forEach((b) => (b.disabled = sel.size === 0)));
  main.append(
    h("h1", {}, "Instances"),
    h("div", { class: "toolbar" }, text, status, h("span", { class: "grow" }), button("Launch instance", () => launch(refreshSoon), { primary: true, rule: "write", id: "launch" })),
    bulk,
    tbl.el,
  );

  let marker = null;
  function absorb(list) {
    for (const s of list) {
      if (s.status === "DELETED") servers.delete(s.id);
      else servers.set(s.id, s);
      if (!marker || s.updated > marker) marker = s.updated;
    }
    tbl.set([...servers.values()]);
    applyFilter();
  }
  const [list, imageList] = await Promise.all([
    all("compute", "/servers/detail", "servers"),
    hasService("image") ? all("image", "/v2/images", "images", { limit: 1000 }).catch(() => []) : [],
  ]);
  images = imageList;
  absorb(list);

  async function poll() {
    const changed = marker ? await api("compute", "/servers/detail", { query: { "changes-since": marker } }) : { servers: await all("compute", "/servers/detail", "servers") };
    absorb(changed.servers);
  }
  const fast = () => ([...servers.values()].some(isBusy) ? 1500 : 5000);
  const stop = every(fast, poll);
  let soon = null;
  function refreshSoon() {
    clearTimeout(soon);
    soon = setTimeout(() => poll().catch(fail), 300);
  }

  async function act(ids, action, body = null) {
    await Promise.all(ids.map((sid) => api("compute", `/servers/${sid}/action`, { method: "POST", body: { [action]: body } }).catch(fail)));
    toast(`${action} sent to ${ids.length} instance(s)`);
    refreshSoon();
  }
  async function remove(ids) {
    if (!(await confirm(`Delete ${ids.length} instance(s)?`, "Delete"))) return;
    await Promise.all(ids.map((sid) => api("compute", `/servers/${sid}`, { method: "DELETE" }).catch(fail)));
    toast(`Deleting ${ids.length} instance(s)`);
    refreshSoon();
  }
  return () => {
    stop();
    clearTimeout(soon);
  };
}

// ---- the launch form --------------------------------------------------------

async function launch(done) {
  const volume = volumeService();
  const [images, flavors, networks, groups, keypairs, serverGroups, limits, volumes, snapshots] = await Promise.all([
    hasService("image") ? all("image", "/v2/images", "images", { limit: 1000 }) : [],
    all("compute", "/flavors/detail", "flavors"),
    hasService("network") ? api("network", "/v2.0/networks").then((b) => b.networks) : [],
    hasService("network") ? api("network", "/v2.0/security-groups", { query: { project_id: getSession().project.id } }).then((b) => b.security_groups) : [],
    api("compute", "/os-keypairs").then((b) => b.keypairs.map((k) => k.keypair)),
    api("compute", "/os-server-groups").then((b) => b.server_groups),
    api("compute", "/limits").then((b) => b.limits.absolute),
    volume ? api(volume, "/volumes/detail", { query: { status: "available" } }).then((b) => b.volumes.filter((v) => v.bootable === "true")) : [],
    volume ? api(volume, "/snapshots/detail", { query: { status: "available" } }).then((b) => b.snapshots) : [],
  ]).catch((e) => {
    fail(e);
    throw e;
  });
  const quota = h("div", { class: "alert", id: "launch-quota" });
  const sources = { image: images.filter((i) => i.status === "active").map((i) => [i.id, i.name || i.id]), volume: volumes.map((v) => [v.id, v.name || v.id]), snapshot: snapshots.map((s) => [s.id, s.name || s.id]) };
  const usable = networks.filter((n) => !n["router:external"] || n.shared);
  const form = formDialog({
    title: "Launch instance",
    submitLabel: "Launch",
    intro: quota,
    fields: [
      { name: "name", label: "Name", required: true },
      { name: "source", label: "Boot source", type: "select", required: true, options: [["image", "Image"], ["volume", "Volume"], ["snapshot", "Volume snapshot"]], value: "image" },
      { name: "source_id", label: "Image / volume / snapshot", type: "select", required: true, options: sources.image, value: (images.find((i) => i.name === "onestack-busybox") || images[0] || {}).id },
      { name: "flavor", label: "Flavor", type: "select", required: true, options: flavors.map((f) => [f.id, `${f.name} (${f.vcpus} vCPU, ${f.ram} MiB, ${f.disk} GB)`]), value: (flavors.slice().sort((a, b) => a.ram - b.ram)[0] || {}).id },
      { name: "networks", label: "Networks", type: "multi", options: usable.map((n) => [n.id, n.name || n.id]), value: usable.length === 1 ? [usable[0].id] : [] },
      { name: "security_groups", label: "Security groups", type: "multi", options: groups.map((g) => [g.name, g.name]), value: groups.some((g) => g.name === "default") ? ["default"] : [] },
      { name: "key_name", label: "Key pair", type: "select", options: keypairs.map((k) => k.name) },
      { name: "user_data", label: "User data", type: "textarea", rows: 3 },
      { name: "server_group", label: "Server group", type: "select", options: serverGroups.map((g) => [g.id, g.name]) },
      { name: "count", label: "Count", type: "number", min: 1, max: 100, value: 1, required: true },
    ],
    onChange(values, f) {
      const select = f.inputs.source_id.input;
      if (select.dataset.kind !== values.source) {
        select.dataset.kind = values.source;
        clear(select, (sources[values.source] || []).map(([v, t]) => h("option", { value: v }, t)));
      }
      const flavor = flavors.find((x) => x.id === values.flavor) || { vcpus: 0, ram: 0 };
      const n = values.count || 1;
      const rows = [
        ["Instances", limits.totalInstancesUsed, n, limits.maxTotalInstances],
        ["vCPUs", limits.totalCoresUsed, n * flavor.vcpus, limits.maxTotalCores],
        ["RAM (MiB)", limits.totalRAMUsed, n * flavor.ram, limits.maxTotalRAMSize],
      ];
      const over = rows.some(([, used, add, max]) => max >= 0 && used + add > max);
      quota.className = over ? "alert error" : "alert";
      quota.textContent = "Quota after launch: " + rows.map(([label, used, add, max]) => `${label} ${used + add} of ${max < 0 ? "unlimited" : max}`).join(" · ") + (over ? " — over quota" : "");
    },
    cli(v) {
      const parts = ["openstack server create"];
      if (v.source === "image") parts.push(`--image ${shq(v.source_id)}`);
      if (v.source === "volume") parts.push(`--volume ${shq(v.source_id)}`);
      if (v.source === "snapshot") parts.push(`--snapshot ${shq(v.source_id)}`);
      parts.push(`--flavor ${shq(v.flavor)}`);
      for (const n of v.networks) parts.push(`--network ${shq(n)}`);
      if (!v.networks.length) parts.push("--nic none");
      for (const g of v.security_groups) parts.push(`--security-group ${shq(g)}`);
      if (v.key_name) parts.push(`--key-name ${shq(v.key_name)}`);
      if (v.user_data) parts.push("--user-data user-data.txt");
      if (v.server_group) parts.push(`--hint group=${shq(v.server_group)}`);
      if (v.count > 1) parts.push(`--min ${v.count} --max ${v.count}`);
      parts.push(shq(v.name || "NAME"));
      return parts.join(" \\\n  ");
    },
    async submit(v) {
      const server = {
        name: v.name,
        flavorRef: v.flavor,
        networks: v.networks.length ? v.networks.map((uuid) => ({ uuid })) : "none",
        min_count: v.count || 1,
        max_count: v.count || 1,
      };
      if (v.source === "image") server.imageRef = v.source_id;
      else server.block_device_mapping_v2 = [{ uuid: v.source_id, source_type: v.source, destination_type: "volume", boot_index: 0 }];
      if (v.security_groups.length) server.security_groups = v.security_groups.map((name) => ({ name }));
      if (v.key_name) server.key_name = v.key_name;
      if (v.user_data) server.user_data = btoa(unescape(encodeURIComponent(v.user_data)));
      const body = { server };
      if (v.server_group) body["os:scheduler_hints"] = { group: v.server_group };
      await api("compute", "/servers", { method: "POST", body });
      toast(`Launching ${v.name}`);
      done();
    },
  });
  return form;
}

// ---- the detail page --------------------------------------------------------

async function detail(main, id) {
  let server = (await api("compute", `/servers/${id}`)).server;
  const title = h("h1", {});
  const badge = h("span", { id: "server-status" });
  const actionsBar = h("div", { class: "toolbar", role: "group", "aria-label": "Instance actions" });
  let gatedButtons = [];
  const head = () => {
    title.textContent = server.name;
    badge.innerHTML = statusOf(server);
    const busy = !!server["OS-EXT-STS:task_state"];
    for (const [el, statuses] of gatedButtons) el.disabled = busy || !statuses.includes(server.status);
  };
  head();
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/compute/instances" }, "Instances")), title, h("p", {}, "Status: ", badge), actionsBar);
  const run = async (fn, message) => {
    try {
      await fn();
      if (message) toast(message);
      refresh();
    } catch (e) {
      fail(e);
    }
  };
  const action = (name, body = null) => () => run(() => api("compute", `/servers/${id}/action`, { method: "POST", body: { [name]: body } }), `${name} sent`);
  // [button, the statuses in which Nova accepts it]
  const gated = [];
  const when_ = (el, ...statuses) => {
    gated.push([el, statuses]);
    return el;
  };
  if (can("write")) {
    actionsBar.append(
      when_(button("Start", action("os-start")), "SHUTOFF"),
      when_(button("Stop", action("os-stop")), "ACTIVE", "PAUSED", "SUSPENDED", "ERROR"),
      when_(button("Reboot", action("reboot", { type: "SOFT" })), "ACTIVE", "SHUTOFF"),
      when_(button("Pause", action("pause")), "ACTIVE"),
      when_(button("Unpause", action("unpause")), "PAUSED"),
      when_(button("Suspend", action("suspend")), "ACTIVE"),
      when_(button("Resume", action("resume")), "SUSPENDED"),
      when_(button("Resize", () => resize(server, refresh)), "ACTIVE", "SHUTOFF"),
      when_(button("Confirm resize", action("confirmResize")), "VERIFY_RESIZE"),
      when_(button("Revert resize", action("revertResize")), "VERIFY_RESIZE"),
      when_(button("Rebuild", () => rebuild(server, refresh)), "ACTIVE", "SHUTOFF", "ERROR"),
      button("Create snapshot", () => snapshot(server)),
      hasService("network") ? button("Associate floating IP", () => associateFloatingIp(server, refresh), { id: "associate-fip" }) : null,
      volumeService() ? button("Attach volume", () => attachVolume(server, refresh), { id: "attach-volume" }) : null,
      button("Delete", async () => {
        if (await confirm(`Delete ${server.name}?`, "Delete")) run(async () => {
          await api("compute", `/servers/${id}`, { method: "DELETE" });
          location.hash = "#/compute/instances";
        });
      }, { danger: true }),
    );
  }
  gatedButtons = gated;
  head();
  const overviewPanel = (panel) => {
    const volumes = server["os-extended-volumes:volumes_attached"] || [];
    panel.append(
      props([
        ["ID", server.id],
        ["Status", server.status],
        ["Task", server["OS-EXT-STS:task_state"] || "—"],
        ["Flavor", server.flavor ? `${server.flavor.original_name} (${server.flavor.vcpus} vCPU, ${server.flavor.ram} MiB)` : ""],
        ["Image", server.image && server.image.id ? server.image.id : "booted from volume"],
        ["Key pair", server.key_name || "—"],
        ["IP addresses", addresses(server) || "—"],
        ["Security groups", (server.security_groups || []).map((g) => g.name).join(", ")],
        ["Volumes", volumes.map((v) => v.id).join(", ") || "—"],
        ["Availability zone", server["OS-EXT-AZ:availability_zone"]],
        ["Created", when(server.created)],
        ["Fault", server.fault ? server.fault.message : undefined],
      ]),
    );
    if (volumes.length && can("write")) {
      panel.append(h("h2", {}, "Attached volumes"), ...volumes.map((v) => h("p", {}, v.id, " ", button("Detach", () => run(() => api("compute", `/servers/${id}/os-volume_attachments/${v.id}`, { method: "DELETE" }), "Detaching")))));
    }
  };
  const panes = tabs([
    { label: "Overview", render: overviewPanel },
    { label: "Interfaces", render: (panel) => interfaces(panel, server, refresh) },
    { label: "Console log", render: (panel) => consoleLog(panel, id) },
    { label: "Console", render: (panel) => consolePanel(panel, server) },
    { label: "Action log", render: (panel) => actionLog(panel, id) },
  ]);
  main.append(panes);
  let last = JSON.stringify(server);
  async function refresh() {
    try {
      server = (await api("compute", `/servers/${id}`)).server;
    } catch (e) {
      if (e.status === 404) {
        location.hash = "#/compute/instances";
        return;
      }
      throw e;
    }
    head();
    const now = JSON.stringify(server);
    if (now !== last && panes.querySelector('[role="tab"][aria-selected="true"]').id === "tab-0") panes.querySelector("#tab-0").click();
    last = now;
  }
  const stop = every(() => (isBusy(server) ? 1500 : 5000), refresh);
  return () => {
    stop();
    panes.dispose();
  };
}

async function interfaces(panel, server, refresh) {
  const list = (await api("compute", `/servers/${server.id}/os-interface`)).interfaceAttachments;
  const tbl = table({
    label: "Interfaces",
    key: (i) => i.port_id,
    columns: [
      { label: "Port", key: "port_id" },
      { label: "Network", key: "net_id" },
      { label: "MAC", key: "mac_addr" },
      { label: "Fixed IPs", get: (i) => (i.fixed_ips || []).map((f) => f.ip_address).join(", ") },
      { label: "State", key: "port_state" },
    ],
    actions: (i) => [{ label: "Detach", rule: "write", danger: true, run: () => api("compute", `/servers/${server.id}/os-interface/${i.port_id}`, { method: "DELETE" }).then(() => toast("Detaching"), fail) }],
  });
  tbl.set(list);
  panel.append(
    h("div", { class: "toolbar" }, button("Attach interface", async () => {
      const networks = (await api("network", "/v2.0/networks")).networks;
      formDialog({
        title: "Attach interface",
        submitLabel: "Attach",
        fields: [{ name: "net_id", label: "Network", type: "select", required: true, options: networks.map((n) => [n.id, n.name]) }],
        cli: (v) => `openstack server add network ${shq(server.id)} ${shq(v.net_id)}`,
        submit: async (v) => {
          await api("compute", `/servers/${server.id}/os-interface`, { method: "POST", body: { interfaceAttachment: { net_id: v.net_id } } });
          toast("Interface attached");
          refresh();
        },
      });
    }, { rule: "write" })),
    tbl.el,
  );
}

async function consoleLog(panel, id) {
  const pre = h("pre", { class: "log", id: "console-log", tabindex: "0", "aria-label": "Console log" }, "Loading…");
  const lines = h("select", { "aria-label": "Lines", id: "log-lines" }, [50, 200, 1000].map((n) => h("option", { value: n, selected: n === 200 }, `${n} lines`)));
  const load = async () => {
    const body = await api("compute", `/servers/${id}/action`, { method: "POST", body: { "os-getConsoleOutput": { length: Number(lines.value) } } });
    pre.textContent = body.output || "(empty)";
    pre.scrollTop = pre.scrollHeight;
  };
  lines.addEventListener("change", () => load().catch(fail));
  panel.append(h("div", { class: "toolbar" }, lines, button("Refresh", () => load().catch(fail))), pre);
  load().catch((e) => (pre.textContent = e.message));
  return every(5000, load);
}

function consolePanel(panel, server) {
  const area = h("div", { id: "console-area" });
  const open = (kind) => async () => {
    area.replaceChildren(h("p", { class: "muted" }, "Connecting…"));
    try {
      const { ticket } = await own(`/console/${server.id}`, { type: kind });
      const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/console/ws/${ticket}`;
      if (kind === "serial") await serial(area, wsUrl);
      else await vnc(area, wsUrl);
    } catch (e) {
      area.replaceChildren(h("p", { class: "alert error", role: "alert" }, `The console is not available: ${e.message}`));
    }
  };
  panel.append(h("div", { class: "toolbar" }, button("Serial console", open("serial"), { id: "open-serial" }), button("VNC console", open("novnc"), { id: "open-vnc" })), area);
  return () => area.dispatchEvent(new Event("dispose"));
}

async function serial(area, wsUrl) {
  loadStyle("/vendor/npm/@xterm/xterm/css/xterm.css");
  await loadScript("/vendor/npm/@xterm/xterm/lib/xterm.js");
  await loadScript("/vendor/npm/@xterm/addon-fit/lib/addon-fit.js");
  const box = h("div", { class: "terminal", id: "serial-terminal" });
  area.replaceChildren(box);
  const term = new window.Terminal({ convertEol: false, cursorBlink: true, fontSize: 14 });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  const ws = new WebSocket(wsUrl, ["binary"]);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => term.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  ws.onclose = () => term.write("\r\n[console closed]\r\n");
  term.onData((data) => ws.readyState === 1 && ws.send(new TextEncoder().encode(data)));
  term.focus();
  window.__serialTerminal = term;
  area.addEventListener("dispose", () => {
    ws.close();
    term.dispose();
  });
}

async function vnc(area, wsUrl) {
  const { default: RFB } = await import("/vendor/novnc/core/rfb.js");
  const screen = h("div", { class: "vnc", id: "vnc-screen", tabindex: "0", "aria-label": "VNC console" });
  area.replaceChildren(screen);
  const rfb = new RFB(screen, wsUrl);
  rfb.scaleViewport = true;
  rfb.addEventListener("disconnect", () => area.append(h("p", { class: "muted" }, "VNC disconnected")));
  area.addEventListener("dispose", () => rfb.disconnect());
}

async function actionLog(panel, id) {
  const list = (await api("compute", `/servers/${id}/os-instance-actions`)).instanceActions;
  const tbl = table({
    label: "Action log",
    key: (a) => a.request_id,
    columns: [
      { label: "Action", key: "action" },
      { label: "Request", key: "request_id" },
      { label: "Started", get: (a) => a.start_time, html: (a) => esc(when(a.start_time)) },
      { label: "Message", get: (a) => a.message || "" },
    ],
  });
  tbl.set(list);
  panel.append(tbl.el);
}

async function resize(server, refresh) {
  const flavors = await all("compute", "/flavors/detail", "flavors");
  formDialog({
    title: `Resize ${server.name}`,
    submitLabel: "Resize",
    fields: [{ name: "flavor", label: "New flavor", type: "select", required: true, options: flavors.filter((f) => f.name !== (server.flavor || {}).original_name).map((f) => [f.id, f.name]) }],
    cli: (v) => `openstack server resize --flavor ${shq(v.flavor)} ${shq(server.id)}`,
    submit: async (v) => {
      await api("compute", `/servers/${server.id}/action`, { method: "POST", body: { resize: { flavorRef: v.flavor } } });
      toast("Resizing; confirm when it is VERIFY_RESIZE");
      refresh();
    },
  });
}

async function rebuild(server, refresh) {
  const images = await all("image", "/v2/images", "images", { limit: 1000 });
  formDialog({
    title: `Rebuild ${server.name}`,
    submitLabel: "Rebuild",
    fields: [{ name: "image", label: "Image", type: "select", required: true, options: images.map((i) => [i.id, i.name || i.id]), value: server.image && server.image.id }],
    cli: (v) => `openstack server rebuild --image ${shq(v.image)} ${shq(server.id)}`,
    submit: async (v) => {
      await api("compute", `/servers/${server.id}/action`, { method: "POST", body: { rebuild: { imageRef: v.image } } });
      toast("Rebuilding");
      refresh();
    },
  });
}

function snapshot(server) {
  formDialog({
    title: `Snapshot ${server.name}`,
    fields: [{ name: "name", label: "Image name", required: true, value: `${server.name}-snapshot` }],
    cli: (v) => `openstack server image create --name ${shq(v.name)} ${shq(server.id)}`,
    submit: async (v) => {
      await api("compute", `/servers/${server.id}/action`, { method: "POST", body: { createImage: { name: v.name } } });
      toast("Snapshot requested; see Images");
    },
  });
}

async function associateFloatingIp(server, refresh) {
  const [fips, ports, networks] = await Promise.all([
    api("network", "/v2.0/floatingips", { query: { project_id: getSession().project.id } }).then((b) => b.floatingips),
    api("network", "/v2.0/ports", { query: { device_id: server.id } }).then((b) => b.ports),
    api("network", "/v2.0/networks", { query: { "router:external": true } }).then((b) => b.networks),
  ]);
  const free = fips.filter((f) => !f.port_id);
  formDialog({
    title: `Associate a floating IP with ${server.name}`,
    submitLabel: "Associate",
    fields: [
      { name: "fip", label: "Floating IP", type: "select", options: free.map((f) => [f.id, f.floating_ip_address]), placeholder: "Allocate a new one" },
      { name: "pool", label: "Pool (for a new one)", type: "select", required: true, options: networks.map((n) => [n.id, n.name]), value: (networks[0] || {}).id },
      { name: "port", label: "Port", type: "select", required: true, options: ports.map((p) => [p.id, `${(p.fixed_ips[0] || {}).ip_address || p.id}`]), value: (ports[0] || {}).id },
    ],
    cli: (v) => {
      const addr = v.fip ? (free.find((f) => f.id === v.fip) || {}).floating_ip_address : "$(openstack floating ip create -f value -c floating_ip_address " + shq(v.pool) + ")";
      return `openstack server add floating ip ${shq(server.id)} ${addr}`;
    },
    submit: async (v) => {
      if (v.fip) await api("network", `/v2.0/floatingips/${v.fip}`, { method: "PUT", body: { floatingip: { port_id: v.port } } });
      else await api("network", "/v2.0/floatingips", { method: "POST", body: { floatingip: { floating_network_id: v.pool, port_id: v.port } } });
      toast("Floating IP associated");
      refresh();
    },
  });
}

async function attachVolume(server, refresh) {
  const volume = volumeService();
  const vols = (await api(volume, "/volumes/detail", { query: { status: "available" } })).volumes;
  formDialog({
    title: `Attach a volume to ${server.name}`,
    submitLabel: "Attach",
    fields: [{ name: "volume", label: "Volume", type: "select", required: true, options: vols.map((v) => [v.id, `${v.name || v.id} (${v.size} GB)`]) }],
    cli: (v) => `openstack server add volume ${shq(server.id)} ${shq(v.volume)}`,
    submit: async (v) => {
      await api("compute", `/servers/${server.id}/os-volume_attachments`, { method: "POST", body: { volumeAttachment: { volumeId: v.volume } } });
      toast("Attaching the volume");
      refresh();
    },
  });
}
