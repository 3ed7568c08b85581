// A list page: a title, a filter, a create button, a table with row actions, a reload.

import { button, every, filterBox, h, table } from "../ui.js";

export async function listPage(main, { title, columns, load, actions, create, key, tools = [], poll, empty, before }) {
  let reload = null;
  const tbl = table({ label: title, columns, key, empty, actions: actions && ((row) => actions(row, () => reload())) });
  reload = async () => tbl.set(await load());
  const createButton = create ? button(create.label, () => create.open(() => reload()), { primary: true, rule: create.rule || "write", id: "create" }) : null;
  main.append(
    h("h1", {}, title),
    h("div", { class: "toolbar" }, filterBox(tbl, `Filter ${title.toLowerCase()}`), h("span", { class: "grow" }), ...tools.map((t) => (typeof t === "function" ? t(() => reload()) : t)), createButton),
  );
  if (before) main.append(before);
  main.append(tbl.el);
  await reload();
  return poll ? every(poll, reload) : undefined;
}
