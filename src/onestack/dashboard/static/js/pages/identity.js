// Identity: application credentials (everyone), and for admins projects, users, groups,
// roles and role assignments (Keystone v3).

import { api } from "../api.js";
import { getSession } from "../policy.js";
import { confirm, dialog, fail, formDialog, h, nameOf, props, shq, toast, esc, when } from "../ui.js";
import { listPage } from "./common.js";

const ks = (path, options) => api("identity", path, options);
const remove = (path, what, reload) => async () => (await confirm(`Delete ${what}?`, "Delete")) && ks(path, { method: "DELETE" }).then(reload, fail);

export function appCredentials(main) {
  const user = getSession().user.id;
  return listPage(main, {
    title: "Application credentials",
    load: async () => (await ks(`/users/${user}/application_credentials`)).application_credentials,
    columns: [
      { label: "Name", key: "name" },
      { label: "ID", key: "id" },
      { label: "Project", key: "project_id" },
      { label: "Expires", get: (c) => c.expires_at || "never", html: (c) => (c.expires_at ? esc(when(c.expires_at)) : "never") },
      { label: "Roles", get: (c) => (c.roles || []).map((r) => r.name).join(", ") },
    ],
    actions: (c, reload) => [{ label: "Delete", danger: true, run: remove(`/users/${user}/application_credentials/${c.id}`, `application credential ${c.name}`, reload) }],
    create: {
      label: "Create application credential",
      rule: "read",
      open: (reload) =>
        formDialog({
          title: "Create an application credential",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "description", label: "Description" },
            { name: "expires_at", label: "Expires (UTC)", type: "datetime-local" },
            { name: "roles", label: "Roles", type: "multi", options: getSession().roles.map((r) => [r, r]), value: getSession().roles },
            { name: "unrestricted", label: "Unrestricted (may create more credentials)", type: "checkbox" },
          ],
          cli: (v) => `openstack application credential create${v.description ? ` --description ${shq(v.description)}` : ""}${v.expires_at ? ` --expiration ${shq(v.expires_at)}` : ""}${v.roles.map((r) => ` --role ${shq(r)}`).join("")}${v.unrestricted ? " --unrestricted" : ""} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            const credential = { name: v.name, description: v.description || undefined, roles: v.roles.map((name) => ({ name })), unrestricted: v.unrestricted };
            if (v.expires_at) credential.expires_at = `${v.expires_at}:00`;
            const made = (await ks(`/users/${user}/application_credentials`, { method: "POST", body: { application_credential: credential } })).application_credential;
            dialog(
              "Application credential created",
              h("div", {}, h("p", { class: "alert" }, "The secret is shown only now: copy it."), props([["ID", made.id], ["Secret", h("code", { id: "appcred-secret" }, made.secret)]])),
            );
            reload();
          },
        }),
    },
  });
}

export function projects(main) {
  return listPage(main, {
    title: "Projects",
    load: async () => (await ks("/projects")).projects,
    columns: [
      { label: "Name", key: "name" },
      { label: "ID", key: "id" },
      { label: "Domain", key: "domain_id" },
      { label: "Enabled", get: (p) => (p.enabled ? "yes" : "no") },
      { label: "Description", key: "description" },
    ],
    actions: (p, reload) => [
      { label: p.enabled ? "Disable" : "Enable", rule: "admin", run: () => ks(`/projects/${p.id}`, { method: "PATCH", body: { project: { enabled: !p.enabled } } }).then(reload, fail) },
      { label: "Delete", rule: "admin", danger: true, run: remove(`/projects/${p.id}`, `project ${p.name}`, reload) },
    ],
    create: {
      label: "Create project",
      rule: "admin",
      open: (reload) =>
        formDialog({
          title: "Create a project",
          fields: [{ name: "name", label: "Name", required: true }, { name: "description", label: "Description" }, { name: "domain", label: "Domain ID", value: "default", required: true }],
          cli: (v) => `openstack project create --domain ${shq(v.domain)}${v.description ? ` --description ${shq(v.description)}` : ""} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await ks("/projects", { method: "POST", body: { project: { name: v.name, description: v.description, domain_id: v.domain } } });
            reload();
          },
        }),
    },
  });
}

export function users(main) {
  return listPage(main, {
    title: "Users",
    load: async () => (await ks("/users")).users,
    columns: [
      { label: "Name", key: "name" },
      { label: "ID", key: "id" },
      { label: "Domain", key: "domain_id" },
      { label: "Email", get: (u) => u.email || "" },
      { label: "Enabled", get: (u) => (u.enabled ? "yes" : "no") },
    ],
    actions: (u, reload) => [
      {
        label: "Set password",
        rule: "admin",
        run: () =>
          formDialog({
            title: `Password of ${u.name}`,
            submitLabel: "Save",
            fields: [{ name: "password", label: "New password", type: "password", required: true }],
            cli: () => `openstack user set --password-prompt ${shq(u.name)}`,
            submit: async (v) => {
              await ks(`/users/${u.id}`, { method: "PATCH", body: { user: { password: v.password } } });
              toast("Password changed");
            },
          }),
      },
      { label: u.enabled ? "Disable" : "Enable", rule: "admin", run: () => ks(`/users/${u.id}`, { method: "PATCH", body: { user: { enabled: !u.enabled } } }).then(reload, fail) },
      { label: "Delete", rule: "admin", danger: true, disabled: u.id === getSession().user.id, run: remove(`/users/${u.id}`, `user ${u.name}`, reload) },
    ],
    create: {
      label: "Create user",
      rule: "admin",
      open: async (reload) => {
        const list = (await ks("/projects")).projects;
        formDialog({
          title: "Create a user",
          fields: [
            { name: "name", label: "Name", required: true },
            { name: "password", label: "Password", type: "password", required: true },
            { name: "email", label: "Email", type: "email" },
            { name: "project", label: "Default project", type: "select", options: list.map((p) => [p.id, p.name]) },
            { name: "domain", label: "Domain ID", value: "default", required: true },
          ],
          cli: (v) => `openstack user create --domain ${shq(v.domain)} --password-prompt${v.email ? ` --email ${shq(v.email)}` : ""}${v.project ? ` --project ${shq(nameOf(list, v.project))}` : ""} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            const user = { name: v.name, password: v.password, domain_id: v.domain };
            if (v.email) user.email = v.email;
            if (v.project) user.default_project_id = v.project;
            await ks("/users", { method: "POST", body: { user } });
            reload();
          },
        });
      },
    },
  });
}

export function groups(main) {
  return listPage(main, {
    title: "Groups",
    load: async () => (await ks("/groups")).groups,
    columns: [
      { label: "Name", key: "name" },
      { label: "ID", key: "id" },
      { label: "Description", key: "description" },
    ],
    actions: (g, reload) => [
      {
        label: "Members",
        run: async () => {
          const [members, everyone] = await Promise.all([ks(`/groups/${g.id}/users`).then((b) => b.users), ks("/users").then((b) => b.users)]);
          formDialog({
            title: `Members of ${g.name}`,
            submitLabel: "Save",
            fields: [{ name: "users", label: "Users", type: "multi", options: everyone.map((u) => [u.id, u.name]), value: members.map((u) => u.id) }],
            cli: (v) => v.users.filter((id) => !members.some((m) => m.id === id)).map((id) => `openstack group add user ${shq(g.name)} ${shq(nameOf(everyone, id))}`).concat(members.filter((m) => !v.users.includes(m.id)).map((m) => `openstack group remove user ${shq(g.name)} ${shq(m.name)}`)).join("\n") || "# no change",
            submit: async (v) => {
              const adds = v.users.filter((id) => !members.some((m) => m.id === id));
              const drops = members.filter((m) => !v.users.includes(m.id)).map((m) => m.id);
              await Promise.all([...adds.map((id) => ks(`/groups/${g.id}/users/${id}`, { method: "PUT" })), ...drops.map((id) => ks(`/groups/${g.id}/users/${id}`, { method: "DELETE" }))]);
              reload();
            },
          });
        },
      },
      { label: "Delete", rule: "admin", danger: true, run: remove(`/groups/${g.id}`, `group ${g.name}`, reload) },
    ],
    create: {
      label: "Create group",
      rule: "admin",
      open: (reload) =>
        formDialog({
          title: "Create a group",
          fields: [{ name: "name", label: "Name", required: true }, { name: "description", label: "Description" }, { name: "domain", label: "Domain ID", value: "default", required: true }],
          cli: (v) => `openstack group create --domain ${shq(v.domain)} ${shq(v.name || "NAME")}`,
          submit: async (v) => {
            await ks("/groups", { method: "POST", body: { group: { name: v.name, description: v.description, domain_id: v.domain } } });
            reload();
          },
        }),
    },
  });
}

export async function roles(main) {
  let roleList = [];
  let projectList = [];
  let userList = [];
  let groupList = [];
  const cleanup = await listPage(main, {
    title: "Role assignments",
    key: (a) => `${a.role.id}|${(a.user || a.group || {}).id}|${JSON.stringify(a.scope)}`,
    load: async () => {
      const [r, p, u, g, a] = await Promise.all([ks("/roles"), ks("/projects"), ks("/users"), ks("/groups"), ks("/role_assignments", { query: { include_names: true } })]);
      roleList = r.roles;
      projectList = p.projects;
      userList = u.users;
      groupList = g.groups;
      return a.role_assignments;
    },
    columns: [
      { label: "Role", get: (a) => a.role.name || nameOf(roleList, a.role.id) },
      { label: "User or group", get: (a) => (a.user ? `user ${a.user.name || nameOf(userList, a.user.id)}` : `group ${(a.group || {}).name || nameOf(groupList, (a.group || {}).id)}`) },
      { label: "Scope", get: (a) => (a.scope.project ? `project ${a.scope.project.name || nameOf(projectList, a.scope.project.id)}` : a.scope.domain ? `domain ${a.scope.domain.name || a.scope.domain.id}` : "system") },
    ],
    actions: (a, reload) => [
      {
        label: "Revoke",
        rule: "admin",
        danger: true,
        disabled: !a.scope.project || !a.user,
        run: async () => (await confirm("Revoke this role assignment?", "Revoke")) && ks(`/projects/${a.scope.project.id}/users/${a.user.id}/roles/${a.role.id}`, { method: "DELETE" }).then(reload, fail),
      },
    ],
    create: {
      label: "Grant role",
      rule: "admin",
      open: (reload) =>
        formDialog({
          title: "Grant a role on a project",
          submitLabel: "Grant",
          fields: [
            { name: "role", label: "Role", type: "select", required: true, options: roleList.map((r) => [r.id, r.name]) },
            { name: "user", label: "User", type: "select", required: true, options: userList.map((u) => [u.id, u.name]) },
            { name: "project", label: "Project", type: "select", required: true, options: projectList.map((p) => [p.id, p.name]) },
          ],
          cli: (v) => `openstack role add --user ${shq(nameOf(userList, v.user))} --project ${shq(nameOf(projectList, v.project))} ${shq(nameOf(roleList, v.role))}`,
          submit: async (v) => {
            await ks(`/projects/${v.project}/users/${v.user}/roles/${v.role}`, { method: "PUT" });
            reload();
          },
        }),
    },
  });
  main.append(
    h("h2", {}, "Roles"),
    h("p", {}, roleList.map((r) => r.name).join(", ")),
  );
  return cleanup;
}
