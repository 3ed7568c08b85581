// Key pairs (create and download, import) and server groups.

import { api } from "../api.js";
import { confirm, download, fail, formDialog, shq, toast } from "../ui.js";
import { listPage } from "./common.js";

export function keypairs(main) {
  return listPage(main, {
    title: "Key pairs",
    key: (k) => k.name,
    load: async () => (await api("compute", "/os-keypairs")).keypairs.map((k) => k.keypair),
    columns: [
      { label: "Name", key: "name" },
      { label: "Type", key: "type" },
      { label: "Fingerprint", key: "fingerprint" },
    ],
    actions: (k, reload) => [
      {
        label: "Delete",
        rule: "write",
        danger: true,
        run: async () => {
          if (!(await confirm(`Delete key pair ${k.name}?`, "Delete"))) return;
          await api("compute", `/os-keypairs/${encodeURIComponent(k.name)}`, { method: "DELETE" }).catch(fail);
          reload();
        },
      },
    ],
    tools: [
      (reload) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "Import public key";
        b.addEventListener("click", () =>
          formDialog({
            title: "Import a public key",
            submitLabel: "Import",
            fields: [
              { name: "name", label: "Name", required: true },
              { name: "public_key", label: "Public key", type: "textarea", required: true },
            ],
            cli: (v) => `openstack keypair create --public-key key.pub ${shq(v.name || "NAME")}`,
            submit: async (v) => {
              await api("compute", "/os-keypairs", { method: "POST", body: { keypair: { name: v.name, public_key: v.public_key } } });
              toast(`Key pair ${v.name} imported`);
              reload();
            },
          }),
        );
        return b;
      },
    ],
    create: {
      label: "Create key pair",
      open: (reload) =>
        formDialog({
          title: "Create a key pair",
          fields: [{ name: "name", label: "Name", required: true }],
          cli: (v) => `openstack keypair create ${shq(v.name || "NAME")} > ${shq((v.name || "NAME") + ".pem")}`,
          submit: async (v) => {
            const body = await api("compute", "/os-keypairs", { method: "POST", body: { keypair: { name: v.name } } });
            if (body.keypair.private_key) download(`${v.name}.pem`, body.keypair.private_key, "application/x-pem-file");
            toast(`Key pair ${v.name} created; its private key was downloaded (shown only once)`);
            reload();
          },
        }),
    },
  });
}

export function serverGroups(main) {
  return listPage(main, {
    title: "Server groups",
    load: async () => (await api("compute", "/os-server-groups")).server_groups,
    columns: [
      { label: "Name", key: "name" },
      { label: "Policy", get: (g) => g.policy || (g.policies || []).join(", ") },
      { label: "Members", get: (g) => (g.members || []).length },
    ],
    actions: (g, reload) => [
      { label: "Delete", rule: "write", danger: true, run: async () => (await confirm(`Delete ${g.name}?`, "Delete")) && api("compute", `/os-server-groups/${g.id}`, { method: "DELETE" }).then(reload, fail) },
    ],
    create: {
      label: "Create server group",
      open: (reload) =>
        formDialog({
          title: "Create a server group",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "policy", label: "Policy", type: "select", required: true, options: ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"], value: "anti-affinity" },
          ],
          cli: (v) => `openstack server group create --policy ${v.policy} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await api("compute", "/os-server-groups", { method: "POST", body: { server_group: { name: v.name, policy: v.policy } } });
            reload();
          },
        }),
    },
  });
}
