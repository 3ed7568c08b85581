// The pages' building blocks: elements, fast tables, dialogs, forms with "Copy as CLI".
// Text from the cloud is always set as text (h) or escaped (esc) before it reaches the DOM.

import { ApiError } from "./api.js";
import { can } from "./policy.js";

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function shq(value) {
  const text = String(value ?? "");
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

export function toast(message, kind = "info") {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 9000 : 4000);
}

export function fail(error) {
  if (error instanceof ApiError && error.status === 401) return;
  toast(error.message || String(error), "error");
}

export function statusBadge(status) {
  const text = String(status ?? "");
  const upper = text.toUpperCase();
  let kind = "busy";
  if (["ACTIVE", "AVAILABLE", "IN-USE", "UP", "CREATE_COMPLETE", "UPDATE_COMPLETE", "ENABLED", "TRUE", "OK"].includes(upper)) kind = "ok";
  else if (upper.includes("ERROR") || upper.includes("FAILED") || ["DOWN", "SHUTOFF", "DISABLED", "FALSE"].includes(upper)) kind = "bad";
  return `<span class="status ${kind}">${esc(text)}</span>`;
}

export function size(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function when(value) {
  if (!value) return "";
  const date = new Date(value.endsWith("Z") || value.includes("+") ? value : value + "Z");
  return isNaN(date) ? esc(value) : date.toLocaleString();
}

// A fast table: rows rendered as one HTML string, updated in place by key.
export function table({ columns, key = (r) => r.id, actions, select = false, empty = "Nothing here yet.", label }) {
  const wrap = h("div", { class: "table-wrap" });
  const tbl = h("table", { class: "grid" });
  if (label) tbl.setAttribute("aria-label", label);
  const thead = h("thead");
  const tbody = h("tbody");
  const headRow = h("tr");
  let sortBy = null;
  let sortDir = 1;
  let rows = [];
  let filterText = "";
  let filterFn = null;
  const selected = new Set();
  const listeners = new Set();
  if (select) {
    const all = h("input", { type: "checkbox", "aria-label": "Select all" });
    all.addEventListener("change", () => {
      for (const tr of tbody.rows) {
        if (tr.hidden || !tr.dataset.key) continue;
        const box = tr.querySelector("input.sel");
        box.checked = all.checked;
        if (all.checked) selected.add(tr.dataset.key);
        else selected.delete(tr.dataset.key);
      }
      listeners.forEach((fn) => fn(selected));
    });
    headRow.append(h("th", { scope: "col" }, all));
  }
  columns.forEach((col, index) => {
    const button = h("button", { type: "button", class: "sort" }, col.label);
    button.addEventListener("click", () => {
      sortDir = sortBy === index ? -sortDir : 1;
      sortBy = index;
      render();
    });
    headRow.append(h("th", { scope: "col" }, col.sortable === false ? col.label : button));
  });
  if (actions) headRow.append(h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")));
  thead.append(headRow);
  tbl.append(thead, tbody);
  wrap.append(tbl);
  const byKey = new Map();
  const actionMap = new Map();

  function rowHtml(row) {
    const k = esc(key(row));
    let cells = select
      ? `<td><input type="checkbox" class="sel" aria-label="Select ${esc(row.name || key(row))}"${selected.has(String(key(row))) ? " checked" : ""}></td>`
      : "";
    for (const col of columns) cells += `<td>${col.html ? col.html(row) : esc(col.get ? col.get(row) : row[col.key])}</td>`;
    if (actions) {
      const list = actions(row).filter((a) => !a.rule || can(a.rule));
      actionMap.set(String(key(row)), list);
      cells += `<td class="actions">${list
        .map((a, i) => `<button type="button" data-act="${i}" class="${a.danger ? "danger" : ""}"${a.disabled ? " disabled" : ""} aria-label="${esc(a.label)} ${esc(row.name || key(row))}">${esc(a.label)}</button>`)
        .join(" ")}</td>`;
    }
    return `<tr data-key="${k}">${cells}</tr>`;
  }

  function visible(row) {
    if (filterFn && !filterFn(row)) return false;
    if (!filterText) return true;
    const text = columns.map((c) => (c.get ? c.get(row) : row[c.key] ?? "")).join(" ").toLowerCase();
    return text.includes(filterText);
  }

  function sorted() {
    if (sortBy === null) return rows;
    const col = columns[sortBy];
    const val = col.sort || col.get || ((r) => r[col.key]);
    return [...rows].sort((a, b) => {
      const x = val(a) ?? "";
      const y = val(b) ?? "";
      return (x > y ? 1 : x < y ? -1 : 0) * sortDir;
    });
  }

  function render() {
    byKey.clear();
    actionMap.clear();
    const list = sorted();
    if (!list.length) {
      tbody.innerHTML = `<tr><td colspan="${columns.length + (select ? 1 : 0) + (actions ? 1 : 0)}" class="muted">${esc(empty)}</td></tr>`;
      return;
    }
    tbody.innerHTML = list.map(rowHtml).join("");
    let i = 0;
    for (const tr of tbody.rows) {
      const row = list[i++];
      byKey.set(String(key(row)), { tr, sig: null, row });
      if (!visible(row)) tr.hidden = true;
    }
  }

  tbody.addEventListener("change", (event) => {
    if (!event.target.classList.contains("sel")) return;
    const k = event.target.closest("tr").dataset.key;
    if (event.target.checked) selected.add(k);
    else selected.delete(k);
    listeners.forEach((fn) => fn(selected));
  });
  tbody.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const k = button.closest("tr").dataset.key;
    const entry = byKey.get(k);
    const action = (actionMap.get(k) || [])[Number(button.dataset.act)];
    if (entry && action) action.run(entry.row);
  });

  return {
    el: wrap,
    selected,
    onSelect(fn) {
      listeners.add(fn);
    },
    rows: () => rows,
    // full replace; rows whose data did not change keep their DOM
    set(newRows) {
      const fresh = new Set(newRows.map((r) => String(key(r))));
      for (const k of [...selected]) if (!fresh.has(k)) selected.delete(k);
      const sameOrder = newRows.length === rows.length && sortBy === null && newRows.every((r, i) => key(r) === key(rows[i]));
      rows = newRows;
      if (!sameOrder || !byKey.size) return render();
      for (const row of newRows) {
        const k = String(key(row));
        const entry = byKey.get(k);
        if (entry.row === row) continue;
        const sig = JSON.stringify(row);
        if (entry.sig === null) entry.sig = JSON.stringify(entry.row);
        if (entry.sig === sig) continue;
        const tmp = document.createElement("tbody");
        tmp.innerHTML = rowHtml(row);
        const tr = tmp.firstChild;
        tr.hidden = !visible(row);
        entry.tr.replaceWith(tr);
        byKey.set(k, { tr, sig, row });
      }
    },
    filter(text, fn) {
      filterText = (text || "").toLowerCase();
      filterFn = fn || null;
      for (const { tr, row } of byKey.values()) tr.hidden = !visible(row);
    },
  };
}

// A page title with a toolbar (filter box, buttons).
export function pageHeader(title, ...tools) {
  return [h("h1", {}, title), h("div", { class: "toolbar" }, ...tools)];
}

export function filterBox(tbl, label = "Filter") {
  const input = h("input", { type: "search", placeholder: label, "aria-label": label });
  input.addEventListener("input", () => tbl.filter(input.value));
  return input;
}

export function button(label, onclick, { primary = false, danger = false, rule, id } = {}) {
  if (rule && !can(rule)) return null;
  return h("button", { type: "button", class: primary ? "primary" : danger ? "danger" : "", onclick, id }, label);
}

// ---- dialogs --------------------------------------------------------------

export function dialog(title, body, actions = []) {
  const el = h("dialog", { "aria-labelledby": "dlg-title" });
  const close = h("button", { type: "button", onclick: () => el.close() }, "Close");
  el.append(h("h2", { id: "dlg-title" }, title), body, h("div", { class: "dialog-actions" }, ...actions, close));
  el.addEventListener("close", () => el.remove());
  document.body.append(el);
  el.showModal();
  return el;
}

export function confirm(text, label = "Confirm") {
  return new Promise((resolve) => {
    let answered = false;
    const yes = h("button", { type: "button", class: "primary" }, label);
    const el = dialog("Are you sure?", h("p", {}, text), [yes]);
    yes.addEventListener("click", () => {
      answered = true;
      el.close();
    });
    el.addEventListener("close", () => resolve(answered));
  });
}

let fieldCounter = 0;

// Fields: {name, label, type: text|number|password|textarea|select|multi|checkbox|file, options, value, required, help}
export function formFields(fields) {
  const grid = h("div", { class: "form-grid" });
  const inputs = {};
  for (const field of fields) {
    const id = `f${++fieldCounter}-${field.name}`;
    let input;
    if (field.type === "select") {
      input = h("select", { id, name: field.name, required: field.required });
      if (!field.required) input.append(h("option", { value: "" }, field.placeholder || "—"));
      for (const opt of field.options || []) {
        const [value, text] = Array.isArray(opt) ? opt : [opt, opt];
        input.append(h("option", { value, selected: String(value) === String(field.value ?? "") }, text));
      }
    } else if (field.type === "multi") {
      input = h("fieldset", { id, class: "multi" }, h("legend", { class: "sr-only" }, field.label));
      for (const opt of field.options || []) {
        const [value, text] = Array.isArray(opt) ? opt : [opt, opt];
        const boxId = `${id}-${value}`;
        const checked = (field.value || []).includes(value);
        input.append(h("div", {}, h("input", { type: "checkbox", id: boxId, value, checked }), " ", h("label", { for: boxId }, text)));
      }
      if (!(field.options || []).length) input.append(h("span", { class: "muted" }, "none available"));
    } else if (field.type === "textarea") {
      input = h("textarea", { id, name: field.name, rows: field.rows || 5, required: field.required });
      input.value = field.value ?? "";
    } else if (field.type === "checkbox") {
      input = h("input", { id, name: field.name, type: "checkbox", checked: !!field.value });
    } else {
      input = h("input", {
        id,
        name: field.name,
        type: field.type || "text",
        required: field.required,
        min: field.min,
        max: field.max,
        step: field.step,
        placeholder: field.placeholder,
        autocomplete: "off",
      });
      if (field.value !== undefined && field.type !== "file") input.value = field.value;
    }
    inputs[field.name] = { field, input };
    const label = field.type === "multi" ? h("span", { class: "label", id: `${id}-label` }, field.label) : h("label", { for: id }, field.label);
    if (field.type === "multi") input.setAttribute("aria-labelledby", `${id}-label`);
    grid.append(label, h("div", {}, input, field.help ? h("div", { class: "hint" }, field.help) : null));
  }
  return {
    el: grid,
    inputs,
    values() {
      const out = {};
      for (const [name, { field, input }] of Object.entries(inputs)) {
        if (field.type === "multi") out[name] = [...input.querySelectorAll("input:checked")].map((i) => i.value);
        else if (field.type === "checkbox") out[name] = input.checked;
        else if (field.type === "file") out[name] = input.files[0] || null;
        else if (field.type === "number") out[name] = input.value === "" ? null : Number(input.value);
        else out[name] = input.value.trim();
      }
      return out;
    },
  };
}

// A form in a dialog, with the equivalent `openstack` command shown live.
export function formDialog({ title, fields, cli, submit, submitLabel = "Create", intro, onChange }) {
  const form = formFields(fields);
  const cliText = h("code", { class: "cli-text" });
  const copy = h("button", { type: "button" }, "Copy");
  const cliBox = h("details", { class: "cli" }, h("summary", {}, "Copy as CLI"), h("pre", {}, cliText), copy);
  const error = h("p", { class: "alert error", role: "alert", hidden: true });
  const update = () => {
    const values = form.values();
    if (cli) cliText.textContent = cli(values);
    if (onChange) onChange(values, form);
  };
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(cliText.textContent);
      toast("Command copied");
    } catch (_) {
      toast("Select the command and copy it", "info");
    }
  });
  const go = h("button", { type: "submit", class: "primary" }, submitLabel);
  const formEl = h("form", { method: "dialog" }, intro || null, error, form.el, cli ? cliBox : null);
  formEl.addEventListener("input", update);
  formEl.addEventListener("change", update);
  const el = dialog(title, formEl, []);
  el.querySelector(".dialog-actions").prepend(go);
  go.setAttribute("form", "");
  go.addEventListener("click", async (event) => {
    event.preventDefault();
    if (!formEl.reportValidity()) return;
    go.disabled = true;
    error.hidden = true;
    try {
      const result = await submit(form.values(), form);
      if (result !== false) el.close();
    } catch (e) {
      error.textContent = e.message || String(e);
      error.hidden = false;
    } finally {
      go.disabled = false;
    }
  });
  update();
  return { el, form, update };
}

export function props(pairs) {
  const dl = h("dl", { class: "props" });
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    dl.append(h("dt", {}, label), h("dd", {}, value instanceof Node ? value : String(value ?? "")));
  }
  return dl;
}

export function tabs(list, initial = 0) {
  const wrap = h("div", { class: "tabs" });
  const bar = h("div", { role: "tablist" });
  const panel = h("div", { role: "tabpanel", tabindex: "0" });
  const buttons = list.map((tab, i) => {
    const b = h("button", { type: "button", role: "tab", id: `tab-${i}`, "aria-selected": "false", tabindex: "-1" }, tab.label);
    b.addEventListener("click", () => choose(i));
    b.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") choose((i + 1) % list.length, true);
      if (event.key === "ArrowLeft") choose((i - 1 + list.length) % list.length, true);
    });
    return b;
  });
  let cleanup = null;
  function choose(i, focus = false) {
    if (cleanup) cleanup();
    cleanup = null;
    buttons.forEach((b, j) => {
      b.setAttribute("aria-selected", String(i === j));
      b.tabIndex = i === j ? 0 : -1;
    });
    if (focus) buttons[i].focus();
    panel.setAttribute("aria-labelledby", `tab-${i}`);
    panel.replaceChildren();
    const result = list[i].render(panel);
    if (typeof result === "function") cleanup = result;
  }
  bar.append(...buttons);
  wrap.append(bar, panel);
  choose(initial);
  wrap.dispose = () => cleanup && cleanup();
  return wrap;
}

export function quotaBar(label, used, limit) {
  const unlimited = limit === -1 || limit === null || limit === undefined;
  const pct = unlimited ? 0 : Math.min(100, limit ? (100 * used) / limit : 100);
  const fill = h("span");
  fill.style.width = `${pct}%`;
  const bar = h("div", {
    class: `bar${pct >= 100 ? " full" : ""}`,
    role: "progressbar",
    "aria-label": label,
    "aria-valuemin": "0",
    "aria-valuemax": unlimited ? "100" : String(limit),
    "aria-valuenow": unlimited ? "0" : String(Math.min(used, limit)),
  }, fill);
  return h("div", { class: "quota" }, h("div", { class: "bar-label" }, h("span", {}, label), h("span", {}, `${used} / ${unlimited ? "∞" : limit}`)), bar);
}

// Re-run fn every `ms` while the page is shown; returns the stop function.
export function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch (e) {
      fail(e);
    }
    if (!stopped) timer = setTimeout(tick, typeof ms === "function" ? ms() : ms);
  };
  timer = setTimeout(tick, typeof ms === "function" ? ms() : ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export function download(name, text, type = "text/plain") {
  const blobUrl = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: blobUrl, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(blobUrl), 1000);
}

export function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (document.querySelector(`script[src="${src}"]`)) return resolve();
    const s = h("script", { src });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`${src} could not be loaded`));
    document.head.append(s);
  });
}

export function loadStyle(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

export function nameOf(list, id, fallback) {
  const found = list.find((item) => item.id === id);
  return found ? found.name || found.id : fallback ?? id ?? "";
}
