// Images: upload with a progress bar, share with a project, edit properties, delete.

import { all, api, upload } from "../api.js";
import { getSession } from "../policy.js";
import { confirm, dialog, fail, formDialog, h, shq, size, statusBadge, toast } from "../ui.js";
import { listPage } from "./common.js";

const CORE = new Set(["id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "created_at", "updated_at", "tags", "self", "file", "schema", "disk_format", "container_format", "direct_url", "locations", "os_hidden", "stores"]);

export function render(main) {
  return listPage(main, {
    title: "Images",
    load: () => all("image", "/v2/images", "images", { limit: 1000 }),
    columns: [
      { label: "Name", key: "name" },
      { label: "Status", get: (i) => i.status, html: (i) => statusBadge(i.status) },
      { label: "Visibility", key: "visibility" },
      { label: "Format", key: "disk_format" },
      { label: "Size", get: (i) => size(i.size), sort: (i) => i.size },
      { label: "Owner", get: (i) => (i.owner === getSession().project.id ? "this project" : i.owner || "") },
    ],
    actions: (i, reload) => {
      const mine = i.owner === getSession().project.id;
      return [
        { label: "Properties", run: () => properties(i, reload) },
        { label: "Share", rule: "write", disabled: !mine, run: () => share(i, reload) },
        { label: "Delete", rule: "write", danger: true, disabled: !mine || i.protected, run: async () => (await confirm(`Delete image ${i.name}?`, "Delete")) && api("image", `/v2/images/${i.id}`, { method: "DELETE" }).then(reload, fail) },
      ];
    },
    poll: 10000,
    create: { label: "Upload image", open: create },
  });
}

function create(reload) {
  const bar = h("progress", { class: "progress", max: 100, value: 0, "aria-label": "Upload progress", id: "image-progress", hidden: true });
  formDialog({
    title: "Upload an image",
    submitLabel: "Upload",
    intro: bar,
    fields: [
      { name: "name", label: "Name", required: true },
      { name: "file", label: "Image file", type: "file", required: true },
      { name: "disk_format", label: "Disk format", type: "select", required: true, options: ["raw", "qcow2", "iso", "vmdk", "vdi", "vhd", "ami", "ari", "aki"], value: "raw" },
      { name: "container_format", label: "Container format", type: "select", required: true, options: ["bare", "ovf", "ova", "docker", "ami", "ari", "aki"], value: "bare" },
      { name: "visibility", label: "Visibility", type: "select", required: true, options: ["private", "shared", "community", "public"], value: "private" },
      { name: "min_disk", label: "Minimum disk (GB)", type: "number", min: 0, value: 0 },
      { name: "min_ram", label: "Minimum RAM (MiB)", type: "number", min: 0, value: 0 },
    ],
    cli: (v) => `openstack image create --disk-format ${v.disk_format} --container-format ${v.container_format} --${v.visibility} --min-disk ${v.min_disk || 0} --min-ram ${v.min_ram || 0} --file ${shq(v.file ? v.file.name : "FILE")} ${shq(v.name || "NAME")}`,
    submit: async (v) => {
      const image = await api("image", "/v2/images", {
        method: "POST",
        body: { name: v.name, disk_format: v.disk_format, container_format: v.container_format, visibility: v.visibility, min_disk: v.min_disk || 0, min_ram: v.min_ram || 0 },
      });
      bar.hidden = false;
      await upload("image", `/v2/images/${image.id}/file`, v.file, {
        headers: { "Content-Type": "application/octet-stream" },
        onProgress: (done, total) => (bar.value = Math.round((100 * done) / total)),
      });
      toast(`Image ${v.name} uploaded`);
      reload();
    },
  });
}

async function share(image, reload) {
  const members = (await api("image", `/v2/images/${image.id}/members`).catch(() => ({ members: [] }))).members;
  formDialog({
    title: `Share ${image.name}`,
    submitLabel: "Share",
    intro: h("p", {}, members.length ? `Shared with: ${members.map((m) => `${m.member_id} (${m.status})`).join(", ")}` : "Not shared yet."),
    fields: [{ name: "project", label: "Project ID", required: true }],
    cli: (v) => `openstack image set --shared ${shq(image.id)} && openstack image add project ${shq(image.id)} ${shq(v.project || "PROJECT")}`,
    submit: async (v) => {
      if (image.visibility !== "shared") {
        await api("image", `/v2/images/${image.id}`, { method: "PATCH", body: JSON.stringify([{ op: "replace", path: "/visibility", value: "shared" }]), headers: { "Content-Type": "application/openstack-images-v2.1-json-patch" } });
      }
      await api("image", `/v2/images/${image.id}/members`, { method: "POST", body: { member: v.project } });
      toast(`Shared with ${v.project}`);
      reload();
    },
  });
}

function properties(image, reload) {
  const custom = Object.entries(image).filter(([k]) => !CORE.has(k));
  const text = custom.map(([k, v]) => `${k}=${v}`).join("\n");
  const mine = image.owner === getSession().project.id;
  if (!mine) {
    dialog(`Properties of ${image.name}`, h("pre", {}, Object.entries(image).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n")));
    return;
  }
  formDialog({
    title: `Properties of ${image.name}`,
    submitLabel: "Save",
    intro: h("p", { class: "hint" }, "One key=value per line; remove a line to remove the property."),
    fields: [
      { name: "name", label: "Name", value: image.name || "" },
      { name: "props", label: "Properties", type: "textarea", rows: 8, value: text },
      { name: "protected", label: "Protected", type: "checkbox", value: image.protected },
    ],
    cli: (v) => {
      const wanted = parse(v.props);
      const sets = Object.entries(wanted).map(([k, x]) => `--property ${shq(`${k}=${x}`)}`);
      const unsets = custom.filter(([k]) => !(k in wanted)).map(([k]) => `openstack image unset --property ${shq(k)} ${shq(image.id)}`);
      return [`openstack image set --name ${shq(v.name)} ${v.protected ? "--protected" : "--unprotected"} ${sets.join(" ")} ${shq(image.id)}`, ...unsets].join("\n");
    },
    submit: async (v) => {
      const wanted = parse(v.props);
      const ops = [];
      if (v.name !== image.name) ops.push({ op: "replace", path: "/name", value: v.name });
      if (v.protected !== image.protected) ops.push({ op: "replace", path: "/protected", value: v.protected });
      for (const [k, x] of Object.entries(wanted)) if (image[k] !== x) ops.push({ op: k in image ? "replace" : "add", path: `/${k}`, value: x });
      for (const [k] of custom) if (!(k in wanted)) ops.push({ op: "remove", path: `/${k}` });
      if (ops.length) await api("image", `/v2/images/${image.id}`, { method: "PATCH", body: JSON.stringify(ops), headers: { "Content-Type": "application/openstack-images-v2.1-json-patch" } });
      toast("Saved");
      reload();
    },
  });
}

function parse(text) {
  const out = {};
  for (const line of (text || "").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

