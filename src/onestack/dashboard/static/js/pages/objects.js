// Object storage: containers, a folder-like browser, uploads with progress (large files
// as Static Large Object segments), downloads, public/private, temporary URLs.

import { api, upload, url } from "../api.js";
import { getSession } from "../policy.js";
import { button, confirm, dialog, esc, fail, formDialog, h, props, shq, size, table, toast, when } from "../ui.js";
import { listPage } from "./common.js";

const SEGMENT = 10 * 1024 * 1024;
const enc = (name) => name.split("/").map(encodeURIComponent).join("/");
const isPublic = (read) => (read || "").includes(".r:");

export function render(main, name) {
  if (name) return browse(main, name);
  return listPage(main, {
    title: "Containers",
    key: (c) => c.name,
    load: async () => {
      const list = await api("object-store", "", { query: { format: "json", limit: 10000 } });
      return list.filter((c) => !c.name.endsWith("_segments") || !list.some((o) => `${o.name}_segments` === c.name));
    },
    columns: [
      { label: "Name", get: (c) => c.name, html: (c) => `<a href="#/object/containers/${esc(encodeURIComponent(c.name))}">${esc(c.name)}</a>` },
      { label: "Objects", key: "count" },
      { label: "Size", get: (c) => size(c.bytes), sort: (c) => c.bytes },
      { label: "Last modified", get: (c) => c.last_modified || "", html: (c) => esc(when(c.last_modified)) },
    ],
    actions: (c, reload) => [
      {
        label: "Delete",
        rule: "write",
        danger: true,
        run: async () => (await confirm(`Delete container ${c.name}? It must be empty.`, "Delete")) && api("object-store", `/${encodeURIComponent(c.name)}`, { method: "DELETE" }).then(reload, fail),
      },
    ],
    create: {
      label: "Create container",
      open: (reload) =>
        formDialog({
          title: "Create a container",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "public", label: "Public (anyone may read)", type: "checkbox" },
          ],
          cli: (v) => `openstack container create ${shq(v.name || "NAME")}${v.public ? `\nswift post --read-acl '.r:*,.rlistings' ${shq(v.name || "NAME")}` : ""}`,
          submit: async (v) => {
            const headers = v.public ? { "X-Container-Read": ".r:*,.rlistings" } : {};
            await api("object-store", `/${encodeURIComponent(v.name)}`, { method: "PUT", headers });
            toast(`Container ${v.name} created`);
            reload();
          },
        }),
    },
  });
}

async function browse(main, container) {
  let prefix = "";
  const crumbs = h("p", { class: "crumbs" });
  const access = h("span", { id: "container-access" });
  const bar = h("progress", { class: "progress", max: 100, value: 0, id: "upload-progress", hidden: true, "aria-label": "Upload progress" });
  const file = h("input", { type: "file", id: "upload-file", multiple: true, "aria-label": "Files to upload" });
  let read = null;
  const tbl = table({
    label: `Objects in ${container}`,
    key: (o) => o.name || o.subdir,
    columns: [
      { label: "Name", get: (o) => (o.subdir || o.name).slice(prefix.length), html: (o) => (o.subdir ? `<a href="#" data-folder="${esc(o.subdir)}">${esc(o.subdir.slice(prefix.length))}</a>` : esc(o.name.slice(prefix.length))) },
      { label: "Size", get: (o) => (o.subdir ? "folder" : size(o.bytes)), sort: (o) => o.bytes || 0 },
      { label: "Type", get: (o) => o.content_type || "" },
      { label: "Last modified", get: (o) => o.last_modified || "", html: (o) => esc(when(o.last_modified)) },
    ],
    actions: (o) =>
      o.subdir
        ? []
        : [
            { label: "Download", run: () => downloadObject(o) },
            { label: "Temp URL", rule: "write", run: () => tempUrl(container, o.name) },
            { label: "Delete", rule: "write", danger: true, run: () => removeObject(o) },
          ],
    empty: "No objects here.",
  });
  tbl.el.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-folder]");
    if (!link) return;
    event.preventDefault();
    prefix = link.dataset.folder;
    load().catch(fail);
  });
  const toggle = button("Make public", async () => {
    const headers = isPublic(read) ? { "X-Remove-Container-Read": "x" } : { "X-Container-Read": ".r:*,.rlistings" };
    await api("object-store", `/${encodeURIComponent(container)}`, { method: "POST", headers }).catch(fail);
    load().catch(fail);
  }, { rule: "write", id: "toggle-public" });
  const folder = button("New folder", () =>
    formDialog({
      title: "Create a folder",
      fields: [{ name: "name", label: "Folder name", required: true }],
      cli: (v) => `openstack object create --name ${shq(prefix + (v.name || "NAME") + "/")} ${shq(container)} /dev/null`,
      submit: async (v) => {
        await api("object-store", `/${encodeURIComponent(container)}/${enc(prefix + v.name + "/")}`, { method: "PUT", body: "", headers: { "Content-Type": "application/directory" } });
        load();
      },
    }), { rule: "write" });
  const send = button("Upload", () => uploadFiles([...file.files]).catch(fail), { primary: true, rule: "write", id: "upload" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/object/containers" }, "Containers")),
    h("h1", {}, container),
    h("p", {}, "Access: ", access, " ", toggle),
    crumbs,
    h("div", { class: "toolbar" }, file, send, folder),
    bar,
    tbl.el,
  );

  async function load() {
    const response = await api("object-store", `/${encodeURIComponent(container)}`, { query: { format: "json", prefix, delimiter: "/", limit: 10000 }, raw: true });
    read = response.headers.get("X-Container-Read");
    access.textContent = isPublic(read) ? "public" : "private";
    if (toggle) toggle.textContent = isPublic(read) ? "Make private" : "Make public";
    tbl.set((await response.json()).filter((o) => o.name !== prefix));
    const parts = prefix.split("/").filter(Boolean);
    crumbs.replaceChildren(h("a", { href: "#", "data-prefix": "" }, container), ...parts.flatMap((p, i) => [" / ", h("a", { href: "#", "data-prefix": parts.slice(0, i + 1).join("/") + "/" }, p)]));
    for (const a of crumbs.querySelectorAll("a[data-prefix]")) a.addEventListener("click", (e) => { e.preventDefault(); prefix = a.dataset.prefix; load().catch(fail); });
  }

  async function uploadFiles(files) {
    if (!files.length) return toast("Choose a file first", "error");
    const total = files.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    bar.hidden = false;
    bar.value = 0;
    for (const f of files) {
      const name = prefix + f.name;
      const progress = (loaded) => (bar.value = Math.round((100 * (done + loaded)) / Math.max(total, 1)));
      if (f.size > 2 * SEGMENT) await segmented(name, f, progress);
      else await upload("object-store", `/${encodeURIComponent(container)}/${enc(name)}`, f, { headers: { "Content-Type": f.type || "application/octet-stream" }, onProgress: progress });
      done += f.size;
      progress(0);
    }
    toast(`Uploaded ${files.length} file(s)`);
    file.value = "";
    await load();
  }

  // a Static Large Object: segments in <container>_segments, then the manifest
  async function segmented(name, f, progress) {
    const segments = `${container}_segments`;
    await api("object-store", `/${encodeURIComponent(segments)}`, { method: "PUT" });
    const stamp = Date.now();
    const manifest = [];
    for (let offset = 0, i = 1; offset < f.size; offset += SEGMENT, i += 1) {
      const part = f.slice(offset, offset + SEGMENT);
      const path = `${name}/${stamp}/${String(i).padStart(8, "0")}`;
      const xhr = await upload("object-store", `/${encodeURIComponent(segments)}/${enc(path)}`, part, { onProgress: (loaded) => progress(offset + loaded) });
      manifest.push({ path: `/${segments}/${path}`, etag: (xhr.getResponseHeader("Etag") || "").replace(/"/g, ""), size_bytes: part.size });
    }
    await api("object-store", `/${encodeURIComponent(container)}/${enc(name)}?multipart-manifest=put`, { method: "PUT", body: JSON.stringify(manifest), headers: { "Content-Type": f.type || "application/octet-stream" } });
  }

  function downloadObject(o) {
    const a = h("a", { href: url("object-store", `/${encodeURIComponent(container)}/${enc(o.name)}`, { _download: o.name.split("/").pop() }), download: o.name.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
  }

  async function removeObject(o) {
    if (!(await confirm(`Delete ${o.name}?`, "Delete"))) return;
    const head = await api("object-store", `/${encodeURIComponent(container)}/${enc(o.name)}`, { method: "HEAD", raw: true });
    const slo = head.headers.get("X-Static-Large-Object") === "True";
    await api("object-store", `/${encodeURIComponent(container)}/${enc(o.name)}`, { method: "DELETE", query: slo ? { "multipart-manifest": "delete" } : undefined }).catch(fail);
    load();
  }

  await load();
}

async function tempUrl(container, name) {
  const head = await api("object-store", "", { method: "HEAD", raw: true });
  let key = head.headers.get("X-Account-Meta-Temp-URL-Key");
  if (!key) {
    key = [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, "0")).join("");
    await api("object-store", "", { method: "POST", headers: { "X-Account-Meta-Temp-URL-Key": key } });
  }
  formDialog({
    title: `Temporary URL for ${name}`,
    submitLabel: "Make URL",
    fields: [{ name: "hours", label: "Valid for (hours)", type: "number", min: 1, value: 24, required: true }],
    cli: (v) => `swift tempurl --digest sha256 GET ${(v.hours || 24) * 3600} ${shq(`/v1/AUTH_${getSession().project.id}/${container}/${name}`)} "$TEMP_URL_KEY"`,
    submit: async (v) => {
      const endpoint = new URL(getSession().endpoints["object-store"]);
      const path = `${endpoint.pathname.replace(/\/$/, "")}/${enc(container)}/${enc(name)}`;
      const expires = Math.floor(Date.now() / 1000) + (v.hours || 24) * 3600;
      const mac = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const sig = await crypto.subtle.sign("HMAC", mac, new TextEncoder().encode(`GET\n${expires}\n${path}`));
      const hex = [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const link = `${endpoint.origin}${path}?temp_url_sig=${hex}&temp_url_expires=${expires}`;
      dialog("Temporary URL", props([["URL", h("code", { id: "temp-url" }, link)], ["Expires", new Date(expires * 1000).toLocaleString()]]));
    },
  });
}
