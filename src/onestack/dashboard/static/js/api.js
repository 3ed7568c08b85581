// Calls to the cloud's APIs through the dashboard's relay (/api/<service type>/<path>).
// Every state-changing call carries the CSRF token; a 401 means the token expired.

export const stats = { calls: 0, byPage: {} };

const MICROVERSIONS = {
  compute: "compute 2.79",
  volumev3: "volume 3.60",
  "block-storage": "volume 3.60",
};

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

export function setCsrfToken(value) {
  document.querySelector('meta[name="csrf-token"]').content = value;
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = value;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function messageOf(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body === "object") {
      if (typeof body.error === "string") return body.error;
      if (body.error && body.error.message) return body.error.message;
      if (body.NeutronError) return body.NeutronError.message;
      if (body.title && body.description) {
        const d = body.description;
        return typeof d === "string" ? d : [d.cause, d.reason].filter(Boolean).join(": ") || body.title;
      }
      if (body.explanation) return body.explanation;
      for (const value of Object.values(body)) {
        if (value && typeof value === "object" && value.message) return value.message;
      }
    }
  } catch (_) {
    // not JSON: the body itself is the message (Glance, Swift)
  }
  const clean = (text || "").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return clean.slice(0, 300) || `HTTP ${status}`;
}

let leaving = false;

export function expired() {
  // several calls may find the token gone at once: navigate once, or each new
  // navigation aborts the one before it
  if (leaving) return;
  leaving = true;
  location.assign("/login?expired=1");
}

export function url(service, path, query) {
  let full = `/api/${service}${path.startsWith("/") ? path : "/" + path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
      else params.append(key, value);
    }
    const text = params.toString();
    if (text) full += (full.includes("?") ? "&" : "?") + text;
  }
  return full;
}

export async function api(service, path, options = {}) {
  const { method = "GET", body, query, headers = {}, raw = false, json = true } = options;
  const sent = { ...headers };
  if (MICROVERSIONS[service] && !sent["OpenStack-API-Version"]) {
    sent["OpenStack-API-Version"] = MICROVERSIONS[service];
  }
  if (method !== "GET" && method !== "HEAD") sent["X-CSRF-Token"] = csrfToken();
  let payload = body;
  if (body !== undefined && json && !(body instanceof Blob) && typeof body !== "string") {
    payload = JSON.stringify(body);
    sent["Content-Type"] = sent["Content-Type"] || "application/json";
  }
  stats.calls += 1;
  const response = await fetch(url(service, path, query), {
    method,
    headers: sent,
    body: payload,
    credentials: "same-origin",
  });
  if (response.status === 401) {
    expired();
    throw new ApiError(401, "Your session has expired.");
  }
  if (!response.ok) {
    throw new ApiError(response.status, messageOf(response.status, await response.text()));
  }
  if (raw) return response;
  if (response.status === 204 || method === "HEAD") return null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) return response.json();
  return response.text();
}

// A whole collection, following the service's "next" links (no call per row).
export async function all(service, path, key, query = {}) {
  let items = [];
  let next = url(service, path, query);
  let guard = 0;
  while (next && guard < 50) {
    guard += 1;
    const relative = next.replace(`/api/${service}`, "");
    const body = await api(service, relative);
    items = items.concat(body[key] || []);
    // Nova, Cinder and Neutron give "<key>_links"; Glance gives "next"
    const links = body[`${key}_links`] || body.links || [];
    const link = Array.isArray(links) ? links.find((l) => l.rel === "next") : null;
    const href = link ? link.href : typeof body.next === "string" ? body.next : null;
    if (!href || (body[key] || []).length === 0) break;
    next = relayed(service, href);
  }
  return items;
}

// A service's absolute "next" link, turned into this relay's URL.
function relayed(service, href) {
  const target = new URL(href, location.origin);
  const marker = { compute: "/v2.1", volumev3: "/v3/", network: "/v2.0" }[service];
  let path = target.pathname;
  if (marker && path.includes(marker)) {
    path = path.slice(path.indexOf(marker) + marker.length);
    if (service === "volumev3") path = path.slice(path.indexOf("/"));
  }
  return `/api/${service}${path.startsWith("/") ? path : "/" + path}${target.search}`;
}

// Upload with progress (fetch has no upload progress): XMLHttpRequest through the relay.
export function upload(service, path, blob, { method = "PUT", headers = {}, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url(service, path));
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    for (const [key, value] of Object.entries(headers)) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => {
      if (onProgress && event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      stats.calls += 1;
      if (xhr.status === 401) {
        expired();
        reject(new ApiError(401, "Your session has expired."));
      } else if (xhr.status >= 400) {
        reject(new ApiError(xhr.status, messageOf(xhr.status, xhr.responseText)));
      } else resolve(xhr);
    };
    xhr.onerror = () => reject(new ApiError(0, "The upload failed (network error)."));
    xhr.send(blob);
  });
}

// POST to the dashboard itself (project switch, console tickets).
export async function own(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  if (response.status === 401) {
    expired();
    throw new ApiError(401, "Your session has expired.");
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(response.status, await response.text()));
  return response.json();
}
