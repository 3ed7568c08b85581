// Volumes, snapshots, backups and transfers (Cinder v3).

import { all, api } from "../api.js";
import { hasService, volumeService } from "../policy.js";
import { confirm, dialog, fail, formDialog, h, props, shq, statusBadge, toast, when, esc } from "../ui.js";
import { listPage } from "./common.js";

const svc = () => volumeService();
const act = (id, body) => api(svc(), `/volumes/${id}/action`, { method: "POST", body });

export function volumes(main) {
  let servers = [];
  return listPage(main, {
    title: "Volumes",
    poll: 4000,
    load: async () => {
      const [vols, srv] = await Promise.all([
        all(svc(), "/volumes/detail", "volumes"),
        hasService("compute") ? api("compute", "/servers").then((b) => b.servers) : [],
      ]);
      servers = srv;
      return vols;
    },
    columns: [
      { label: "Name", get: (v) => v.name || v.id },
      { label: "Size (GB)", key: "size" },
      { label: "Status", get: (v) => v.status, html: (v) => statusBadge(v.status) },
      { label: "Type", key: "volume_type" },
      { label: "Attached to", get: (v) => (v.attachments || []).map((a) => `${(servers.find((s) => s.id === a.server_id) || {}).name || a.server_id} on ${a.device || "?"}`).join(", ") },
      { label: "Bootable", key: "bootable" },
      { label: "Created", get: (v) => v.created_at, html: (v) => esc(when(v.created_at)) },
    ],
    actions: (v, reload) => [
      v.status === "available"
        ? { label: "Attach", rule: "write", run: () => attach(v, servers, reload) }
        : { label: "Detach", rule: "write", disabled: v.status !== "in-use", run: () => detach(v, reload) },
      { label: "Extend", rule: "write", run: () => extend(v, reload) },
      { label: "Snapshot", rule: "write", run: () => snapshot(v, reload) },
      { label: "Backup", rule: "write", run: () => backup(v, reload) },
      { label: "Transfer", rule: "write", disabled: v.status !== "available", run: () => transfer(v, reload) },
      { label: "Delete", rule: "write", danger: true, run: async () => (await confirm(`Delete volume ${v.name || v.id}?`, "Delete")) && api(svc(), `/volumes/${v.id}`, { method: "DELETE" }).then(reload, fail) },
    ],
    create: { label: "Create volume", open: create },
  });
}

async function create(reload) {
  const [images, snapshots, vols, types] = await Promise.all([
    hasService("image") ? all("image", "/v2/images", "images", { limit: 1000 }) : [],
    api(svc(), "/snapshots/detail").then((b) => b.snapshots),
    api(svc(), "/volumes/detail").then((b) => b.volumes),
    api(svc(), "/types").then((b) => b.volume_types).catch(() => []),
  ]);
  const choices = { blank: [], image: images.map((i) => [i.id, i.name || i.id]), snapshot: snapshots.map((s) => [s.id, s.name || s.id]), volume: vols.map((v) => [v.id, v.name || v.id]) };
  formDialog({
    title: "Create a volume",
    fields: [
      { name: "name", label: "Name", required: true },
      { name: "size", label: "Size (GB)", type: "number", min: 1, value: 1, required: true },
      { name: "source", label: "Source", type: "select", required: true, options: [["blank", "No source (empty)"], ["image", "Image"], ["snapshot", "Snapshot"], ["volume", "Volume"]], value: "blank" },
      { name: "source_id", label: "Source item", type: "select", options: [] },
      { name: "type", label: "Type", type: "select", options: types.map((t) => t.name) },
      { name: "description", label: "Description" },
    ],
    onChange(v, f) {
      const select = f.inputs.source_id.input;
      if (select.dataset.kind !== v.source) {
        select.dataset.kind = v.source;
        select.replaceChildren(h("option", { value: "" }, "—"), ...choices[v.source].map(([id, name]) => h("option", { value: id }, name)));
        select.required = v.source !== "blank";
      }
    },
    cli: (v) => {
      const flag = { image: "--image", snapshot: "--snapshot", volume: "--source" }[v.source];
      return `openstack volume create --size ${v.size || 1}${flag ? ` ${flag} ${shq(v.source_id || "ID")}` : ""}${v.type ? ` --type ${shq(v.type)}` : ""}${v.description ? ` --description ${shq(v.description)}` : ""} ${shq(v.name || "NAME")}`;
    },
    submit: async (v) => {
      const volume = { name: v.name, size: v.size, description: v.description || undefined, volume_type: v.type || undefined };
      if (v.source === "image") volume.imageRef = v.source_id;
      if (v.source === "snapshot") volume.snapshot_id = v.source_id;
      if (v.source === "volume") volume.source_volid = v.source_id;
      await api(svc(), "/volumes", { method: "POST", body: { volume } });
      toast(`Creating volume ${v.name}`);
      reload();
    },
  });
}

function attach(v, servers, reload) {
  formDialog({
    title: `Attach ${v.name || v.id}`,
    submitLabel: "Attach",
    fields: [{ name: "server", label: "Instance", type: "select", required: true, options: servers.map((s) => [s.id, s.name]) }],
    cli: (x) => `openstack server add volume ${shq(x.server || "SERVER")} ${shq(v.id)}`,
    submit: async (x) => {
      await api("compute", `/servers/${x.server}/os-volume_attachments`, { method: "POST", body: { volumeAttachment: { volumeId: v.id } } });
      toast("Attaching");
      reload();
    },
  });
}

async function detach(v, reload) {
  const a = (v.attachments || [])[0];
  if (!a || !(await confirm(`Detach ${v.name || v.id}?`, "Detach"))) return;
  await api("compute", `/servers/${a.server_id}/os-volume_attachments/${v.id}`, { method: "DELETE" }).then(() => toast("Detaching"), fail);
  reload();
}

function extend(v, reload) {
  formDialog({
    title: `Extend ${v.name || v.id}`,
    submitLabel: "Extend",
    fields: [{ name: "size", label: "New size (GB)", type: "number", min: v.size + 1, value: v.size + 1, required: true }],
    cli: (x) => `openstack volume set --size ${x.size} ${shq(v.id)}`,
    submit: async (x) => {
      await act(v.id, { "os-extend": { new_size: x.size } });
      reload();
    },
  });
}

function snapshot(v, reload) {
  formDialog({
    title: `Snapshot ${v.name || v.id}`,
    fields: [
      { name: "name", label: "Name", required: true, value: `${v.name || "volume"}-snap` },
      { name: "force", label: "Even if attached", type: "checkbox", value: v.status === "in-use" },
    ],
    cli: (x) => `openstack volume snapshot create --volume ${shq(v.id)}${x.force ? " --force" : ""} ${shq(x.name)}`,
    submit: async (x) => {
      await api(svc(), "/snapshots", { method: "POST", body: { snapshot: { volume_id: v.id, name: x.name, force: x.force } } });
      toast("Snapshot requested");
      reload();
    },
  });
}

function backup(v, reload) {
  formDialog({
    title: `Back up ${v.name || v.id}`,
    fields: [
      { name: "name", label: "Name", required: true, value: `${v.name || "volume"}-backup` },
      { name: "incremental", label: "Incremental", type: "checkbox" },
    ],
    cli: (x) => `openstack volume backup create --name ${shq(x.name)}${x.incremental ? " --incremental" : ""}${v.status === "in-use" ? " --force" : ""} ${shq(v.id)}`,
    submit: async (x) => {
      await api(svc(), "/backups", { method: "POST", body: { backup: { volume_id: v.id, name: x.name, incremental: x.incremental, force: v.status === "in-use" } } });
      toast("Backup requested");
      reload();
    },
  });
}

function transfer(v, reload) {
  formDialog({
    title: `Transfer ${v.name || v.id}`,
    fields: [{ name: "name", label: "Transfer name", value: `${v.name || "volume"}-transfer` }],
    cli: (x) => `openstack volume transfer request create --name ${shq(x.name)} ${shq(v.id)}`,
    submit: async (x) => {
      const body = await api(svc(), "/volume-transfers", { method: "POST", body: { transfer: { volume_id: v.id, name: x.name } } });
      dialog("Transfer created", props([["Transfer ID", body.transfer.id], ["Authorization key (shown once)", body.transfer.auth_key]]));
      reload();
    },
  });
}

export function snapshots(main) {
  return listPage(main, {
    title: "Snapshots",
    poll: 5000,
    load: () => all(svc(), "/snapshots/detail", "snapshots"),
    columns: [
      { label: "Name", get: (s) => s.name || s.id },
      { label: "Volume", key: "volume_id" },
      { label: "Size (GB)", key: "size" },
      { label: "Status", get: (s) => s.status, html: (s) => statusBadge(s.status) },
      { label: "Created", get: (s) => s.created_at, html: (s) => esc(when(s.created_at)) },
    ],
    actions: (s, reload) => [
      {
        label: "Create volume",
        rule: "write",
        run: () =>
          formDialog({
            title: `Volume from ${s.name || s.id}`,
            fields: [{ name: "name", label: "Name", required: true }, { name: "size", label: "Size (GB)", type: "number", min: s.size, value: s.size }],
            cli: (x) => `openstack volume create --snapshot ${shq(s.id)} --size ${x.size} ${shq(x.name || "NAME")}`,
            submit: async (x) => {
              await api(svc(), "/volumes", { method: "POST", body: { volume: { name: x.name, size: x.size, snapshot_id: s.id } } });
              toast("Creating the volume");
            },
          }),
      },
      { label: "Delete", rule: "write", danger: true, run: async () => (await confirm(`Delete snapshot ${s.name || s.id}?`, "Delete")) && api(svc(), `/snapshots/${s.id}`, { method: "DELETE" }).then(reload, fail) },
    ],
  });
}

export function backups(main) {
  return listPage(main, {
    title: "Backups",
    poll: 5000,
    load: () => all(svc(), "/backups/detail", "backups"),
    columns: [
      { label: "Name", get: (b) => b.name || b.id },
      { label: "Volume", key: "volume_id" },
      { label: "Size (GB)", key: "size" },
      { label: "Incremental", key: "is_incremental" },
      { label: "Status", get: (b) => b.status, html: (b) => statusBadge(b.status) },
    ],
    actions: (b, reload) => [
      { label: "Restore", rule: "write", disabled: b.status !== "available", run: async () => (await confirm(`Restore ${b.name || b.id} to a new volume?`, "Restore")) && api(svc(), `/backups/${b.id}/restore`, { method: "POST", body: { restore: { name: `${b.name || "backup"}-restored` } } }).then(() => toast("Restoring to a new volume"), fail) },
      { label: "Delete", rule: "write", danger: true, run: async () => (await confirm(`Delete backup ${b.name || b.id}?`, "Delete")) && api(svc(), `/backups/${b.id}`, { method: "DELETE" }).then(reload, fail) },
    ],
  });
}

export function transfers(main) {
  return listPage(main, {
    title: "Transfers",
    load: () => api(svc(), "/volume-transfers/detail").then((b) => b.transfers),
    columns: [
      { label: "Name", get: (t) => t.name || t.id },
      { label: "ID", key: "id" },
      { label: "Volume", key: "volume_id" },
      { label: "Created", get: (t) => t.created_at, html: (t) => esc(when(t.created_at)) },
    ],
    actions: (t, reload) => [{ label: "Cancel", rule: "write", danger: true, run: async () => (await confirm(`Cancel transfer ${t.name || t.id}?`, "Cancel transfer")) && api(svc(), `/volume-transfers/${t.id}`, { method: "DELETE" }).then(reload, fail) }],
    create: {
      label: "Accept transfer",
      open: (reload) =>
        formDialog({
          title: "Accept a volume transfer",
          submitLabel: "Accept",
          fields: [{ name: "id", label: "Transfer ID", required: true }, { name: "auth_key", label: "Authorization key", required: true }],
          cli: (x) => `openstack volume transfer request accept --auth-key ${shq(x.auth_key || "KEY")} ${shq(x.id || "ID")}`,
          submit: async (x) => {
            await api(svc(), `/volume-transfers/${x.id}/accept`, { method: "POST", body: { accept: { auth_key: x.auth_key } } });
            toast("Transfer accepted: the volume is now this project's");
            reload();
          },
        }),
    },
  });
}
