// The dashboard's shell: navigation by the catalog and the roles, the router, the
// project switcher, the theme, and the return to the login page when the token expires.

import { own, setCsrfToken, stats } from "./api.js";
import { getSession, hasService, isAdmin, setSession, volumeService } from "./policy.js";
import { clear, fail, h } from "./ui.js";

setSession(JSON.parse(document.getElementById("session").textContent));

// [hash, label, module, export, visible?]
const SECTIONS = [
  ["Project", [
    ["overview", "Overview", "overview", "render", () => true],
    ["compute/instances", "Instances", "instances", "render", () => hasService("compute")],
    ["compute/keypairs", "Key pairs", "compute", "keypairs", () => hasService("compute")],
    ["compute/server-groups", "Server groups", "compute", "serverGroups", () => hasService("compute")],
    ["image/images", "Images", "images", "render", () => hasService("image")],
  ]],
  ["Volumes", [
    ["volume/volumes", "Volumes", "volumes", "volumes", () => !!volumeService()],
    ["volume/snapshots", "Snapshots", "volumes", "snapshots", () => !!volumeService()],
    ["volume/backups", "Backups", "volumes", "backups", () => !!volumeService()],
    ["volume/transfers", "Transfers", "volumes", "transfers", () => !!volumeService()],
  ]],
  ["Network", [
    ["network/topology", "Topology", "topology", "render", () => hasService("network")],
    ["network/networks", "Networks", "network", "networks", () => hasService("network")],
    ["network/subnets", "Subnets", "network", "subnets", () => hasService("network")],
    ["network/routers", "Routers", "network", "routers", () => hasService("network")],
    ["network/security-groups", "Security groups", "network", "securityGroups", () => hasService("network")],
    ["network/floating-ips", "Floating IPs", "network", "floatingIps", () => hasService("network")],
    ["network/ports", "Ports", "network", "ports", () => hasService("network")],
  ]],
  ["Object storage", [
    ["object/containers", "Containers", "objects", "render", () => hasService("object-store")],
  ]],
  ["Orchestration", [
    ["orchestration/stacks", "Stacks", "orchestration", "render", () => hasService("orchestration")],
  ]],
  ["Identity", [
    ["identity/app-credentials", "Application credentials", "identity", "appCredentials", () => true],
    ["identity/projects", "Projects", "identity", "projects", isAdmin],
    ["identity/users", "Users", "identity", "users", isAdmin],
    ["identity/groups", "Groups", "identity", "groups", isAdmin],
    ["identity/roles", "Roles and assignments", "identity", "roles", isAdmin],
  ]],
  ["Admin", [
    ["admin/hypervisors", "Hypervisors", "admin", "hypervisors", () => isAdmin() && hasService("compute")],
    ["admin/services", "Services and agents", "admin", "services", isAdmin],
    ["admin/usage", "Usage", "admin", "usage", () => isAdmin() && hasService("compute")],
    ["admin/flavors", "Flavors", "admin", "flavors", () => isAdmin() && hasService("compute")],
    ["admin/quotas", "Quotas", "admin", "quotas", isAdmin],
  ]],
];

const ROUTES = new Map();
for (const [, pages] of SECTIONS) for (const page of pages) ROUTES.set(page[0], page);

function buildNav() {
  const nav = document.getElementById("nav");
  const parts = [];
  for (const [title, pages] of SECTIONS) {
    const shown = pages.filter((p) => p[4]());
    if (!shown.length) continue;
    parts.push(h("h2", {}, title));
    for (const [hash, label] of shown) parts.push(h("a", { href: `#/${hash}`, "data-route": hash }, label));
  }
  clear(nav, parts);
}

function buildHeader() {
  const session = getSession();
  document.getElementById("whoami").textContent = `${session.user.name} (${session.roles.join(", ") || "no role"})`;
  const select = document.getElementById("project-switch");
  clear(select, session.projects.map((p) => h("option", { value: p.id, selected: p.id === session.project.id }, p.name)));
  select.disabled = session.projects.length < 2;
  select.onchange = async () => {
    try {
      const fresh = await own("/session/project", { project_id: select.value });
      setCsrfToken(fresh.csrf_token);
      setSession(fresh);
      scheduleExpiry();
      buildHeader();
      buildNav();
      route();
    } catch (e) {
      fail(e);
    }
  };
}

const THEMES = ["system", "light", "dark"];

function applyTheme(name) {
  if (name === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = name;
  document.getElementById("theme-toggle").textContent = `Theme: ${name}`;
}

function setupTheme() {
  let current = localStorage.getItem("onestack-theme") || "system";
  applyTheme(current);
  document.getElementById("theme-toggle").addEventListener("click", () => {
    current = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    localStorage.setItem("onestack-theme", current);
    applyTheme(current);
  });
}

let expiryTimer = null;

function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const left = getSession().expires_at * 1000 - Date.now();
  expiryTimer = setTimeout(() => location.assign("/login?expired=1"), Math.max(0, Math.min(left, 2 ** 31 - 1)));
}

let dispose = null;
let generation = 0;

async function route() {
  const raw = location.hash.replace(/^#\/?/, "") || "overview";
  let path = raw;
  let param = null;
  while (!ROUTES.has(path) && path.includes("/")) {
    param = decodeURIComponent(raw.slice(path.lastIndexOf("/") + 1));
    path = path.slice(0, path.lastIndexOf("/"));
    if (ROUTES.has(path)) param = decodeURIComponent(raw.slice(path.length + 1));
  }
  const page = ROUTES.get(path);
  const main = document.getElementById("main");
  if (dispose) dispose();
  dispose = null;
  const mine = ++generation;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.route === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!page || !page[4]()) {
    clear(main, h("h1", {}, "Not available"), h("p", {}, "This page does not exist, or your role may not see it."));
    main.dataset.ready = "true";
    return;
  }
  main.dataset.ready = "false";
  main.dataset.page = path;
  performance.mark(`start:${path}`);
  stats.calls = 0;
  try {
    const module = await import(`./pages/${page[2]}.js`);
    if (mine !== generation) return;
    clear(main);
    const result = await module[page[3]](main, param);
    if (mine !== generation) {
      if (typeof result === "function") result();
      return;
    }
    if (typeof result === "function") dispose = result;
  } catch (e) {
    if (mine !== generation) return;
    clear(main, h("h1", {}, page[1]), h("p", { class: "alert error", role: "alert" }, e.message || String(e)));
  }
  stats.byPage[path] = stats.calls;
  performance.mark(`ready:${path}`);
  main.dataset.ready = "true";
  main.dataset.calls = String(stats.calls);
  document.title = `${page[1]} - onestack`;
}

setupTheme();
buildHeader();
buildNav();
scheduleExpiry();
window.addEventListener("hashchange", route);
route();
