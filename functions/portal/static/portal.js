// Dovecote consumer portal: one plain ES module, no dependencies, no build step.
//
// Safety rules this file keeps (the page's CSP enforces the first with Trusted Types):
// - The DOM is built with createElement and text nodes only; nothing is ever parsed as HTML,
//   so what receivers and publishers control (response excerpts, descriptions, event data,
//   URLs) is always text.
// - The session token arrives in the URL fragment (never sent to a server), is moved into
//   memory at once, and leaves the page only as an Authorization header to this origin.
//   The fragment is then replaced, so the token is in no history entry and no link.

const PAGE_SIZE = 20;
const HEALTH_SAMPLE = 10;
const MAX_ENDPOINT_PAGES = 10;
const FIRST_REFRESH_MS = 1500;
const MAX_REFRESH_MS = 30000;
const STATUSES = ["pending", "succeeded", "failed", "cancelled"];

const root = document.documentElement;
const apiBase = location.pathname.replace(/\/portal\/?$/, "");
const brandName = root.dataset.name || "Webhooks";
// The API's highest rate limit, written into the page by the server (functions/portal/pages.py).
const MAX_RATE_LIMIT = Number.parseInt(root.dataset.maxRateLimit, 10);

const state = {
  token: null,
  session: null,
  catalog: null,
  generation: 0,
  timer: null,
  sessionTimer: null,
  refreshRun: 0,
  rendered: false,
  revealed: null, // {webhookId, secret, note}: shown by the next render of that endpoint, then forgotten
  notice: null, // a message for the next view
};

class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

class SessionEnded extends Error {}

// ---- DOM helpers -------------------------------------------------------------------------

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "required", "readOnly", "multiple"]);

function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") {
      for (const [name, listener] of Object.entries(value)) element.addEventListener(name, listener);
    } else if (key === "class") {
      element.className = value;
    } else if (key === "href") {
      if (!String(value).startsWith("#/")) throw new Error("only links inside the portal");
      element.setAttribute("href", value);
    } else if (PROPERTIES.has(key)) {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  appendAll(element, children);
  return element;
}

function appendAll(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child)); // a string becomes a text node
  }
}

function link(path, text, props = {}) {
  return h("a", { ...props, href: path }, text);
}

function badge(text, kind) {
  return h("span", { class: `badge ${kind || ""}` }, text);
}

function errorBox(error) {
  return h("div", { class: "error", role: "alert" }, messageOf(error));
}

function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong in the page. Reload it, or open the portal again.";
}

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.textContent = "";
  }, 5000);
}

function sentence(text) {
  const trimmed = String(text).trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function formatTime(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${moment.getUTCFullYear()}-${pad(moment.getUTCMonth() + 1)}-${pad(moment.getUTCDate())} ` +
    `${pad(moment.getUTCHours())}:${pad(moment.getUTCMinutes())}:${pad(moment.getUTCSeconds())} UTC`
  );
}

function path(...segments) {
  return "#/" + segments.map((s) => encodeURIComponent(s)).join("/");
}

function facts(entries) {
  return h(
    "dl",
    { class: "facts" },
    entries.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

// ---- API ---------------------------------------------------------------------------------

async function api(method, route, body) {
  if (!state.token) throw new SessionEnded();
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
  const init = { method, headers, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiBase + route, init);
  } catch {
    throw new ApiError(0, "network", "The service could not be reached. Check the connection and try again.");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  const problem = payload && typeof payload === "object" ? payload.error || {} : {};
  if (response.status === 401) {
    endSession("Your session has ended", problem.message || "This portal session is no longer valid.");
    throw new SessionEnded();
  }
  if (!response.ok) {
    const text = problem.message || (payload && payload.message) || `The request failed (HTTP ${response.status}).`;
    throw new ApiError(response.status, problem.type || "error", text);
  }
  return payload;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function eventTypes() {
  if (!state.catalog) state.catalog = await api("GET", "/v1/event-types");
  return state.catalog;
}

async function allEndpoints() {
  const endpoints = [];
  let cursor = null;
  for (let page = 0; page < MAX_ENDPOINT_PAGES; page++) {
    const list = await api("GET", `/v1/webhooks${query({ limit: "100", cursor })}`);
    endpoints.push(...list.data);
    if (!list.has_more || !list.next_cursor) break;
    cursor = list.next_cursor;
  }
  return endpoints;
}

function newestFirst(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

// The application's delivery log, merged in the page from each endpoint's own log (the API
// keeps one log per endpoint): a k-way merge over per-endpoint pages, newest first, so
// each page of the merged log costs at most one request per endpoint that feeds it.
class MergedLog {
  constructor(endpoints, filters) {
    this.filters = filters;
    this.sources = endpoints.map((endpoint) => ({ endpoint, buffer: [], cursor: null, done: false }));
  }

  async fill(source) {
    const route = `/v1/webhooks/${encodeURIComponent(source.endpoint.id)}/deliveries`;
    let list;
    try {
      list = await api("GET", route + query({ ...this.filters, limit: String(PAGE_SIZE), cursor: source.cursor }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        source.done = true; // deleted meanwhile
        return;
      }
      throw error;
    }
    source.buffer.push(...list.data);
    source.cursor = list.next_cursor;
    source.done = !list.has_more || !list.next_cursor;
  }

  async next(count) {
    const taken = [];
    while (taken.length < count) {
      await Promise.all(this.sources.filter((s) => !s.buffer.length && !s.done).map((s) => this.fill(s)));
      const live = this.sources.filter((s) => s.buffer.length);
      if (!live.length) break;
      live.sort((a, b) => newestFirst(a.buffer[0], b.buffer[0]));
      taken.push(live[0].buffer.shift());
    }
    return taken;
  }

  get hasMore() {
    return this.sources.some((s) => s.buffer.length || !s.done);
  }
}

// One endpoint's log, as the API pages it.
class EndpointLog {
  constructor(endpointId, filters) {
    this.route = `/v1/webhooks/${encodeURIComponent(endpointId)}/deliveries`;
    this.filters = filters;
    this.cursor = null;
    this.done = false;
  }

  async next(count) {
    if (this.done) return [];
    const list = await api("GET", this.route + query({ ...this.filters, limit: String(count), cursor: this.cursor }));
    this.cursor = list.next_cursor;
    this.done = !list.has_more || !list.next_cursor;
    return list.data;
  }

  get hasMore() {
    return !this.done;
  }
}

// ---- session, theme, branding ------------------------------------------------------------

function setTheme(theme) {
  root.dataset.theme = theme;
  const toggle = document.getElementById("theme-toggle");
  toggle.textContent = theme === "dark" ? "Light theme" : "Dark theme";
  toggle.setAttribute("aria-pressed", String(theme === "dark"));
}

function applyBranding() {
  const accent = root.dataset.accent;
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(accent || "")) {
    root.style.setProperty("--accent", accent);
    root.style.setProperty("--on-accent", readableOn(accent));
  }
  const logo = document.getElementById("logo");
  if (root.dataset.logoUrl) {
    logo.src = root.dataset.logoUrl;
    logo.alt = `${brandName} logo`;
    logo.hidden = false;
    document.getElementById("brand-name").classList.add("with-logo");
  }
}

function readableOn(hex) {
  const digits = hex.length === 4 ? [...hex.slice(1)].map((d) => d + d) : [hex.slice(1, 3), hex.slice(3, 5), hex.slice(5, 7)];
  const [r, g, b] = digits.map((d) => {
    const c = parseInt(d, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.4 ? "#111111" : "#ffffff";
}

function writable() {
  return Boolean(state.session) && !state.session.read_only;
}

function endSession(title, message) {
  state.token = null;
  state.session = null;
  state.generation++;
  clearTimeout(state.timer);
  clearTimeout(state.sessionTimer);
  document.getElementById("nav").hidden = true;
  document.getElementById("session-banner").hidden = true;
  const main = document.getElementById("main");
  main.replaceChildren(
    h(
      "section",
      { class: "ended card", "aria-labelledby": "ended-title" },
      h("h1", { id: "ended-title", tabindex: "-1" }, title),
      h("p", {}, sentence(message)),
      h("p", { class: "muted" }, `Open the portal again from ${brandName} to start a new session.`),
    ),
  );
  document.getElementById("ended-title").focus();
}

function showSession() {
  document.getElementById("nav").hidden = false;
  const banner = document.getElementById("session-banner");
  if (state.session.read_only) {
    banner.textContent = "Read-only session: you can look at everything here, but not change anything.";
    banner.hidden = false;
  }
  if (state.session.expires_at) {
    const remaining = new Date(state.session.expires_at).getTime() - Date.now();
    const wait = Math.max(0, Math.min(remaining, 2 ** 31 - 1));
    state.sessionTimer = setTimeout(
      () => endSession("Your session has expired", "This portal session has expired; its link no longer works."),
      wait,
    );
  }
}

// ---- routing -----------------------------------------------------------------------------

function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [where, search = ""] = hash.split("?");
  const parts = where.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return { parts, params: new URLSearchParams(search) };
}

function pickView(parts) {
  const [section, id, action] = parts;
  if (section === "endpoints" && id === "new") return [newEndpointView, "endpoints"];
  if (section === "endpoints" && id && action === "edit") return [editEndpointView, "endpoints"];
  if (section === "endpoints" && id) return [endpointView, "endpoints"];
  if (section === "deliveries" && id) return [deliveryView, "deliveries"];
  if (section === "deliveries") return [deliveriesView, "deliveries"];
  if (section === "event-types") return [eventTypesView, "event-types"];
  return [endpointsView, "endpoints"];
}

async function render() {
  if (!state.token) return;
  const generation = ++state.generation;
  clearTimeout(state.timer);
  const { parts, params } = currentRoute();
  const [view, section] = pickView(parts);
  for (const anchor of document.querySelectorAll("nav a")) {
    if (anchor.dataset.section === section) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    content = await view({ parts, params, generation });
  } catch (error) {
    if (error instanceof SessionEnded) return;
    content = h("section", {}, h("h1", { tabindex: "-1" }, "Not available"), errorBox(error));
  }
  if (generation !== state.generation) return;
  main.replaceChildren(content);
  main.removeAttribute("aria-busy");
  if (state.notice) {
    toast(state.notice);
    state.notice = null;
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    if (state.rendered) heading.focus(); // after a navigation; a fresh page starts at the skip link
  }
  state.rendered = true;
  document.title = `${heading ? heading.textContent + " · " : ""}${brandName}`;
}

function navigate(target, notice) {
  state.notice = notice || null;
  if (location.hash === target) render();
  else location.hash = target;
}

// Re-runs `load` into `box`: a log keeps refreshing (new deliveries appear by themselves), a
// delivery while it is pending. The pause starts short, grows while nothing changes, and
// starts short again after a change; a newer refresher (a new view, "Load more", a test
// event) stops the older one, and a hidden page waits for its turn without asking.
function keepFresh(box, load, generation) {
  if (generation !== state.generation) return Promise.resolve(); // a view the reader has already left
  const run = ++state.refreshRun;
  clearTimeout(state.timer);
  let delay = FIRST_REFRESH_MS;
  let last = null;
  const tick = async (first) => {
    if (!first && document.hidden) {
      state.timer = setTimeout(() => tick(false), delay);
      return;
    }
    let result;
    try {
      result = await load();
    } catch (error) {
      if (error instanceof SessionEnded) return;
      // Shown, and tried again on the same slowing schedule: a passing failure heals by itself.
      result = { node: errorBox(error), more: true, signature: `error:${messageOf(error)}` };
    }
    if (generation !== state.generation || run !== state.refreshRun) return;
    if (result.signature !== last) {
      const focusedId = !first && box.contains(document.activeElement) ? document.activeElement.id : null;
      box.replaceChildren(result.node);
      if (focusedId) document.getElementById(focusedId)?.focus();
      delay = last === null ? delay : FIRST_REFRESH_MS;
      last = result.signature;
    } else {
      delay = Math.min(MAX_REFRESH_MS, Math.round(delay * 1.5));
    }
    if (result.more) state.timer = setTimeout(() => tick(false), delay);
  };
  return tick(true);
}

function signatureOf(deliveries) {
  return deliveries.map((d) => `${d.id}:${d.status}:${d.attempt_count}`).join(",");
}

// ---- endpoints ---------------------------------------------------------------------------

function healthOf(endpoint, deliveries) {
  if (!endpoint.enabled) {
    return { kind: "disabled", text: endpoint.disabled_reason ? `Disabled: ${endpoint.disabled_reason}` : "Disabled" };
  }
  let since = null;
  let failures = 0;
  for (const delivery of deliveries) {
    if (delivery.status === "succeeded") break;
    const failing = delivery.status === "failed" || (delivery.status === "pending" && delivery.attempt_count > 0);
    if (failing) {
      since = delivery.created_at;
      failures++;
    }
  }
  if (failures) {
    const plural = failures === 1 ? "delivery" : "deliveries";
    return { kind: "failing", text: `Failing since ${formatTime(since)} (${failures} ${plural})` };
  }
  if (!deliveries.length) return { kind: "", text: "No deliveries yet" };
  return { kind: "healthy", text: "Healthy" };
}

async function healthBadge(endpoint) {
  const route = `/v1/webhooks/${encodeURIComponent(endpoint.id)}/deliveries${query({ limit: String(HEALTH_SAMPLE) })}`;
  const list = await api("GET", route);
  const health = healthOf(endpoint, list.data);
  return badge(health.text, health.kind);
}

function endpointCard(endpoint) {
  const healthSlot = h("span", { class: "muted small" }, "Checking health…");
  const card = h(
    "li",
    { class: "card endpoint" },
    h(
      "div",
      { class: "row" },
      h("div", { class: "grow" }, link(path("endpoints", endpoint.id), endpoint.url, { class: "url" })),
      badge(endpoint.enabled ? "Enabled" : "Disabled", endpoint.enabled ? "enabled" : "disabled"),
      healthSlot,
    ),
    endpoint.description ? h("p", { class: "wrap" }, endpoint.description) : null,
    h("p", { class: "muted small" }, "Events: ", h("span", { class: "mono" }, endpoint.events.join(", "))),
  );
  healthBadge(endpoint).then(
    (node) => healthSlot.replaceWith(node),
    (error) => {
      if (!(error instanceof SessionEnded)) healthSlot.textContent = "Health unknown";
    },
  );
  return card;
}

async function endpointsView({ generation }) {
  const list = h("ul", { class: "list", "aria-label": "Endpoints" });
  const more = h("div", { class: "actions" });
  const section = h(
    "section",
    {},
    h("h1", {}, "Endpoints"),
    h(
      "p",
      { class: "muted" },
      "The URLs that receive your webhooks, with their subscriptions and health.",
    ),
    writable() ? h("div", { class: "actions" }, link("#/endpoints/new", "Add endpoint", { class: "button primary" })) : null,
    list,
    more,
  );
  let cursor = null;
  const loadPage = async () => {
    const page = await api("GET", `/v1/webhooks${query({ limit: String(PAGE_SIZE), cursor })}`);
    if (generation !== state.generation) return;
    appendAll(list, page.data.map(endpointCard));
    cursor = page.next_cursor;
    more.replaceChildren();
    if (page.has_more && cursor) {
      more.append(
        h("button", { type: "button", id: "more-endpoints", on: { click: () => loadPage().catch(showInline(more)) } }, "Load more endpoints"),
      );
    }
    if (!list.children.length) {
      list.replaceWith(
        h("p", { class: "card" }, writable() ? "No endpoints yet. Add one to start receiving webhooks." : "No endpoints yet."),
      );
    }
  };
  await loadPage();
  return section;
}

function showInline(container) {
  return (error) => {
    if (!(error instanceof SessionEnded)) container.replaceChildren(errorBox(error));
  };
}

function eventPicker(catalog, selected) {
  const chosen = new Set(selected);
  const boxes = [];
  const option = (value, text, description) => {
    const id = `event-${boxes.length}`;
    const input = h("input", { type: "checkbox", id, value, checked: chosen.has(value) });
    boxes.push(input);
    chosen.delete(value);
    return h(
      "label",
      { class: "check", for: id },
      input,
      h("span", {}, h("code", {}, text), description ? h("span", { class: "muted" }, ` — ${description}`) : null),
    );
  };
  const names = catalog.catalog ? catalog.data.map((t) => t.name) : [];
  const families = [...new Set(names.filter((n) => n.includes(".")).map((n) => `${n.split(".")[0]}.*`))];
  const options = [
    option("*", "*", "every event type"),
    ...families.map((f) => option(f, f, `every ${f.slice(0, -2)} event`)),
    ...(catalog.catalog ? catalog.data.map((t) => option(t.name, t.name, t.description)) : []),
  ];
  const other = h("input", {
    type: "text",
    id: "event-other",
    value: [...chosen].join(", "),
    "aria-describedby": "event-other-hint",
    autocomplete: "off",
  });
  const fieldset = h(
    "fieldset",
    {},
    h("legend", {}, "Event types"),
    options,
    h("div", { class: "field" }, h("label", { for: "event-other" }, "Other event types"),
      other,
      h("p", { class: "hint", id: "event-other-hint" }, catalog.catalog
        ? "Comma-separated, e.g. order.created or order.*"
        : "Comma-separated, e.g. order.created, order.* or * (this service has no event catalog)")),
  );
  const value = () => [
    ...boxes.filter((b) => b.checked).map((b) => b.value),
    ...other.value.split(",").map((s) => s.trim()).filter(Boolean),
  ];
  return { fieldset, value };
}

// An endpoint's type: where its deliveries go. The AWS types name a target in the customer's
// account and the role Dovecote assumes there (with the endpoint's external ID).
const DESTINATION_TYPES = [
  ["https", "HTTPS", "URL", "https://example.com/webhooks"],
  ["sqs", "Amazon SQS queue", "Queue URL or ARN", "https://sqs.us-east-1.amazonaws.com/111122223333/orders"],
  ["sns", "Amazon SNS topic", "Topic ARN", "arn:aws:sns:us-east-1:111122223333:orders"],
  ["eventbridge", "Amazon EventBridge bus", "Event bus ARN", "arn:aws:events:us-east-1:111122223333:event-bus/orders"],
];

function destinationFields(endpoint) {
  const fixedType = endpoint ? endpoint.type || "https" : null;
  const typeSelect = fixedType
    ? null
    : h("select", { id: "endpoint-type" }, DESTINATION_TYPES.map(([value, text]) => h("option", { value }, text)));
  const url = h("input", { type: "url", id: "endpoint-url", required: true, value: endpoint ? endpoint.url : "", autocomplete: "off", spellcheck: "false" });
  const urlLabel = h("label", { for: "endpoint-url" }, "URL");
  const role = h("input", { type: "text", id: "endpoint-role", value: endpoint && endpoint.role_arn ? endpoint.role_arn : "", autocomplete: "off", spellcheck: "false", placeholder: "arn:aws:iam::111122223333:role/dovecote-delivery-orders", "aria-describedby": "endpoint-role-hint" });
  const roleField = h("div", { class: "field" }, h("label", { for: "endpoint-role" }, "Role ARN"), role,
    h("p", { class: "hint", id: "endpoint-role-hint" }, "Dovecote assumes this role with the endpoint's external ID, shown after saving; the role's trust policy must require it."));
  const type = () => (typeSelect ? typeSelect.value : fixedType);
  const refresh = () => {
    const [, , label, placeholder] = DESTINATION_TYPES.find(([value]) => value === type()) || DESTINATION_TYPES[0];
    urlLabel.textContent = label;
    url.placeholder = placeholder;
    url.type = type() === "https" ? "url" : "text";
    roleField.hidden = type() === "https";
  };
  if (typeSelect) typeSelect.addEventListener("change", refresh);
  refresh();
  return {
    url,
    role,
    type,
    nodes: [
      typeSelect ? h("div", { class: "field" }, h("label", { for: "endpoint-type" }, "Destination"), typeSelect) : null,
      h("div", { class: "field" }, urlLabel, url),
      roleField,
    ],
    // The request's fields: `url` for HTTPS, `target` and `role_arn` for the AWS types.
    fields: () => (type() === "https"
      ? { url: url.value.trim() }
      : { type: type(), target: url.value.trim(), role_arn: role.value.trim() }),
  };
}

// The rate limit field's text as the API's `rate_limit_per_second`: null when empty (no limit of the
// endpoint's own), else a whole number within the API's bounds; `error` says what is wrong otherwise.
function parseRateLimit(text) {
  const trimmed = text.trim();
  if (!trimmed) return { value: null };
  const bound = Number.isFinite(MAX_RATE_LIMIT) ? ` from 1 to ${MAX_RATE_LIMIT.toLocaleString("en-US")}` : " of at least 1";
  const error = `Enter the rate limit as a whole number of deliveries a second${bound}, or leave it empty.`;
  if (!/^[0-9]+$/.test(trimmed)) return { error };
  const value = Number(trimmed);
  if (value < 1 || (Number.isFinite(MAX_RATE_LIMIT) && value > MAX_RATE_LIMIT)) return { error };
  return { value };
}

function rateLimitText(limit) {
  return `${limit.toLocaleString("en-US")} deliver${limit === 1 ? "y" : "ies"} a second`;
}

function endpointForm({ title, endpoint, submitText, onSubmit, withSecret }) {
  const errorSlot = h("div", { "aria-live": "assertive" });
  const destination = destinationFields(endpoint);
  const url = destination.url;
  const description = h("input", { type: "text", id: "endpoint-description", value: endpoint ? endpoint.description : "", maxlength: "256", autocomplete: "off" });
  const rateLimit = h("input", {
    type: "text",
    id: "endpoint-rate-limit",
    inputmode: "numeric",
    autocomplete: "off",
    value: endpoint && endpoint.rate_limit_per_second ? String(endpoint.rate_limit_per_second) : "",
    "aria-describedby": "endpoint-rate-limit-hint",
  });
  const secret = withSecret
    ? h("input", { type: "text", id: "endpoint-secret", autocomplete: "off", spellcheck: "false", "aria-describedby": "endpoint-secret-hint" })
    : null;
  return async () => {
    const picker = eventPicker(await eventTypes(), endpoint ? endpoint.events : []);
    const submit = h("button", { type: "submit", class: "primary" }, submitText);
    const form = h(
      "form",
      {
        novalidate: true,
        on: {
          submit: async (event) => {
            event.preventDefault();
            const events = picker.value();
            if (!url.value.trim()) return fail(destination.type() === "https" ? "Enter the endpoint's URL." : "Enter the target.", url);
            if (destination.type() !== "https" && !destination.role.value.trim()) return fail("Enter the role ARN.", destination.role);
            if (!events.length) return fail("Pick at least one event type.", picker.fieldset.querySelector("input"));
            const limit = parseRateLimit(rateLimit.value);
            if (limit.error) return fail(limit.error, rateLimit);
            submit.disabled = true;
            try {
              await onSubmit({
                ...destination.fields(),
                description: description.value,
                events: [...new Set(events)],
                rate_limit_per_second: limit.value,
                secret: secret && secret.value.trim() ? secret.value.trim() : undefined,
              });
            } catch (error) {
              if (error instanceof SessionEnded) return;
              submit.disabled = false;
              fail(messageOf(error));
            }
          },
        },
      },
      errorSlot,
      destination.nodes,
      h("div", { class: "field" }, h("label", { for: "endpoint-description" }, "Description"), description),
      picker.fieldset,
      h("div", { class: "field" }, h("label", { for: "endpoint-rate-limit" }, "Rate limit (deliveries a second, optional)"), rateLimit,
        h("p", { class: "hint", id: "endpoint-rate-limit-hint" }, `${Number.isFinite(MAX_RATE_LIMIT) ? `1 to ${MAX_RATE_LIMIT.toLocaleString("en-US")}. ` : ""}`
          + `Deliveries beyond it wait and are sent later; they are not failures. Empty: none on this endpoint (your account's default applies, if it has one).`)),
      secret
        ? h("div", { class: "field" }, h("label", { for: "endpoint-secret" }, "Signing secret (optional)"), secret,
          h("p", { class: "hint", id: "endpoint-secret-hint" }, "Leave empty to have one generated. It is shown once, after saving."))
        : null,
      h("div", { class: "actions" }, submit, link(endpoint ? path("endpoints", endpoint.id) : "#/endpoints", "Cancel", { class: "button" })),
    );
    function fail(message, focusTarget) {
      const box = h("div", { class: "error", role: "alert", id: "form-error", tabindex: "-1" }, message);
      errorSlot.replaceChildren(box);
      (focusTarget || box).focus();
    }
    return h("section", {}, h("h1", {}, title), form);
  };
}

function readOnlyRefusal(title) {
  return h("section", {}, h("h1", {}, title), h("p", { class: "card" }, "This session is read-only: nothing can be changed here."));
}

async function newEndpointView() {
  if (!writable()) return readOnlyRefusal("Add endpoint");
  return endpointForm({
    title: "Add endpoint",
    submitText: "Create endpoint",
    withSecret: true,
    onSubmit: async ({ rate_limit_per_second: limit, ...fields }) => {
      const created = await api("POST", "/v1/webhooks", limit === null ? fields : { ...fields, rate_limit_per_second: limit });
      state.revealed = {
        webhookId: created.id,
        secret: created.secret,
        note: "This is the endpoint's signing secret. It is shown this once: store it now to verify deliveries.",
      };
      navigate(path("endpoints", created.id), "Endpoint created");
    },
  })();
}

async function editEndpointView({ parts }) {
  const endpoint = await api("GET", `/v1/webhooks/${encodeURIComponent(parts[1])}`);
  if (!writable()) return readOnlyRefusal("Edit endpoint");
  return endpointForm({
    title: "Edit endpoint",
    endpoint,
    submitText: "Save changes",
    withSecret: false,
    onSubmit: async (fields) => {
      const changes = {};
      if (fields.url !== undefined && fields.url !== endpoint.url) changes.url = fields.url;
      if (fields.target !== undefined && fields.target !== endpoint.target) changes.target = fields.target;
      if (fields.role_arn !== undefined && fields.role_arn !== endpoint.role_arn) changes.role_arn = fields.role_arn;
      if (fields.description !== endpoint.description) changes.description = fields.description;
      if (fields.events.join("\n") !== endpoint.events.join("\n")) changes.events = fields.events;
      if (fields.rate_limit_per_second !== (endpoint.rate_limit_per_second ?? null)) changes.rate_limit_per_second = fields.rate_limit_per_second;
      if (Object.keys(changes).length) await api("PATCH", `/v1/webhooks/${encodeURIComponent(endpoint.id)}`, changes);
      navigate(path("endpoints", endpoint.id), Object.keys(changes).length ? "Endpoint saved" : "Nothing changed");
    },
  })();
}

function secretPanel(revealed, onDone) {
  const input = h("input", {
    type: "text",
    id: "secret-value",
    readOnly: true,
    value: revealed.secret,
    "aria-labelledby": "secret-title",
    "aria-describedby": "secret-note",
    autocomplete: "off",
    spellcheck: "false",
  });
  const panel = h(
    "section",
    { class: "card secret", "aria-labelledby": "secret-title", role: "region" },
    h("h2", { id: "secret-title" }, "Signing secret"),
    h("p", { id: "secret-note" }, revealed.note),
    input,
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        on: {
          click: () => {
            input.select();
            const copied = navigator.clipboard ? navigator.clipboard.writeText(revealed.secret) : Promise.reject();
            copied.then(() => toast("Secret copied"), () => toast("Select the secret and copy it"));
          },
        },
      }, "Copy secret"),
      h("button", { type: "button", class: "primary", id: "secret-done", on: { click: () => onDone(panel) } }, "I have stored it"),
    ),
  );
  return panel;
}

// A button that runs `action` on a click, disabled while it runs: enabled again when it fails (the error goes
// to `onError`), and after it succeeds too when `again` (otherwise success moves the page on).
function actionButton(props, label, action, onError, { again = false } = {}) {
  const run = async (event) => {
    const button = event.target;
    button.disabled = true;
    try {
      await action();
      if (again) button.disabled = false;
    } catch (error) {
      button.disabled = false;
      onError(error);
    }
  };
  return h("button", { type: "button", ...props, on: { click: run } }, label);
}

function confirmPanel({ id, question, detail, confirmText, danger, onConfirm, onCancel }) {
  const confirm = h("button", { type: "button", class: danger ? "danger" : "primary", id: `${id}-confirm` }, confirmText);
  const errorSlot = h("div");
  const panel = h(
    "div",
    { class: "card confirm", role: "alertdialog", "aria-labelledby": `${id}-question`, "aria-describedby": `${id}-detail` },
    h("p", { id: `${id}-question` }, h("strong", {}, question)),
    h("p", { id: `${id}-detail`, class: "muted" }, detail),
    errorSlot,
    h("div", { class: "actions" }, confirm, h("button", { type: "button", on: { click: onCancel } }, "Cancel")),
  );
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await onConfirm();
    } catch (error) {
      if (error instanceof SessionEnded) return;
      confirm.disabled = false;
      errorSlot.replaceChildren(errorBox(error));
    }
  });
  return { panel, focus: () => confirm.focus() };
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function endpointView({ parts, params, generation }) {
  const endpoint = await api("GET", `/v1/webhooks/${encodeURIComponent(parts[1])}`);
  const base = `/v1/webhooks/${encodeURIComponent(endpoint.id)}`;
  const revealed = state.revealed && state.revealed.webhookId === endpoint.id ? state.revealed : null;
  state.revealed = null; // shown by this render only
  const secretSlot = h("div");
  const confirmSlot = h("div");
  const healthSlot = h("span", { class: "muted" }, "Checking…");
  healthBadge(endpoint).then((node) => healthSlot.replaceWith(node), () => (healthSlot.textContent = "Unknown"));

  const section = h(
    "section",
    {},
    h("p", { class: "small" }, link("#/endpoints", "← Endpoints")),
    h("h1", { class: "url" }, endpoint.url),
    secretSlot,
    h(
      "div",
      { class: "card" },
      facts([
        ["Status", badge(endpoint.enabled ? "Enabled" : "Disabled", endpoint.enabled ? "enabled" : "disabled")],
        endpoint.type && endpoint.type !== "https" ? ["Type", (DESTINATION_TYPES.find(([value]) => value === endpoint.type) || [])[1] || endpoint.type] : null,
        endpoint.role_arn ? ["Role ARN", h("span", { class: "mono" }, endpoint.role_arn)] : null,
        endpoint.external_id ? ["External ID", h("span", { class: "mono" }, endpoint.external_id)] : null,
        ["Health", healthSlot],
        !endpoint.enabled && endpoint.disabled_reason ? ["Disabled because", endpoint.disabled_reason] : null,
        ["Description", endpoint.description || h("span", { class: "muted" }, "None")],
        ["Event types", h("span", { class: "mono" }, endpoint.events.join(", "))],
        ["Rate limit", endpoint.rate_limit_per_second
          ? rateLimitText(endpoint.rate_limit_per_second)
          : endpoint.effective_rate_limit_per_second
            ? `${rateLimitText(endpoint.effective_rate_limit_per_second)}, your account's default (not set on this endpoint)`
            : h("span", { class: "muted" }, "Not set on this endpoint: deliveries are sent as they come")],
        endpoint.filter ? ["Payload filter", h("pre", { class: "endpoint-filter" }, JSON.stringify(endpoint.filter, null, 2))] : null,
        endpoint.headers && Object.keys(endpoint.headers).length
          ? ["Custom headers", h("span", { class: "mono" }, Object.keys(endpoint.headers).join(", "))] // names only: values may be credentials
          : null,
        ["Created", formatTime(endpoint.created_at)],
        ["Updated", formatTime(endpoint.updated_at)],
        ["Endpoint id", h("span", { class: "mono" }, endpoint.id)],
      ]),
    ),
  );
  if (revealed) {
    secretSlot.append(secretPanel(revealed, (panel) => {
      panel.remove();
      section.querySelector("h1").focus();
    }));
  }

  if (writable()) {
    const ask = (options) => {
      const { panel, focus } = confirmPanel({ ...options, onCancel: () => confirmSlot.replaceChildren() });
      confirmSlot.replaceChildren(panel);
      focus();
    };
    const actions = h(
      "div",
      { class: "actions", role: "group", "aria-label": "Endpoint actions" },
      link(path("endpoints", endpoint.id, "edit"), "Edit", { class: "button" }),
      actionButton({ id: "toggle-enabled" }, endpoint.enabled ? "Disable" : "Enable", async () => {
        await api("PATCH", base, { enabled: !endpoint.enabled });
        navigate(path("endpoints", endpoint.id), endpoint.enabled ? "Endpoint disabled" : "Endpoint enabled");
      }, showInline(confirmSlot)),
      actionButton({ id: "send-test" }, "Send test event", async () => {
        await api("POST", `${base}/test`);
        toast("Test event sent");
        if (generation === state.generation) refreshLog();
      }, showInline(confirmSlot), { again: true }),
      h("button", {
        type: "button",
        id: "rotate-secret",
        on: {
          click: () =>
            ask({
              id: "rotate",
              question: "Rotate the signing secret?",
              detail: "A new secret signs every delivery from now on; the current one keeps signing for a grace period so you can switch over.",
              confirmText: "Rotate secret",
              onConfirm: async () => {
                const rotated = await api("POST", `${base}/rotate-secret`);
                confirmSlot.replaceChildren();
                const until = rotated.previous_secret_expires_at ? ` The previous secret keeps working until ${formatTime(rotated.previous_secret_expires_at)}.` : "";
                secretSlot.replaceChildren(
                  secretPanel(
                    { secret: rotated.secret, note: `This is the new signing secret, shown this once: store it now.${until}` },
                    (panel) => {
                      panel.remove();
                      section.querySelector("h1").focus();
                    },
                  ),
                );
                document.getElementById("secret-value").focus();
                toast("Secret rotated");
              },
            }),
        },
      }, "Rotate secret"),
      h("button", {
        type: "button",
        id: "delete-endpoint",
        class: "danger",
        on: {
          click: () =>
            ask({
              id: "delete",
              question: "Delete this endpoint?",
              detail: "It stops receiving webhooks and its pending retries are cancelled. This cannot be undone.",
              confirmText: "Delete endpoint",
              danger: true,
              onConfirm: async () => {
                await api("DELETE", base);
                navigate("#/endpoints", "Endpoint deleted");
              },
            }),
        },
      }, "Delete"),
    );
    const since = h("input", { type: "datetime-local", id: "recover-since", required: true, value: localInputValue(new Date(Date.now() - 86400000)) });
    const recoverResult = h("div", { "aria-live": "polite" });
    const recover = h(
      "form",
      {
        class: "card",
        "aria-labelledby": "recover-title",
        on: {
          submit: async (event) => {
            event.preventDefault();
            const moment = new Date(since.value);
            if (Number.isNaN(moment.getTime())) {
              recoverResult.replaceChildren(h("div", { class: "error", role: "alert" }, "Enter a date and time."));
              return;
            }
            try {
              const recovery = await api("POST", `${base}/recover`, { since: moment.toISOString() });
              const more = recovery.has_more ? " More remain: recover again." : "";
              recoverResult.replaceChildren(h("p", {}, `${recovery.deliveries_requeued} failed deliveries queued again.${more}`));
              refreshLog();
            } catch (error) {
              showInline(recoverResult)(error);
            }
          },
        },
      },
      h("h2", { id: "recover-title" }, "Recover failed deliveries"),
      h("div", { class: "field" }, h("label", { for: "recover-since" }, "Re-send failed deliveries of events since (your local time)"), since),
      h("button", { type: "submit" }, "Recover"),
      recoverResult,
    );
    section.append(actions, confirmSlot, recover);
  }

  const logBox = h("div");
  const logSection = h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Deliveries"), await logFilters(params, path("endpoints", endpoint.id)), logBox);
  section.append(logSection);
  const filters = filtersOf(params);
  const refreshLog = () => deliveryLog(logBox, () => new EndpointLog(endpoint.id, filters), generation, null);
  refreshLog();
  return section;
}

// ---- delivery log ------------------------------------------------------------------------

function filtersOf(params) {
  const status = STATUSES.includes(params.get("status")) ? params.get("status") : "";
  return { status, event: (params.get("event") || "").trim() };
}

async function logFilters(params, target) {
  const current = filtersOf(params);
  const catalog = await eventTypes();
  const status = h(
    "select",
    { id: "filter-status" },
    h("option", { value: "", selected: !current.status }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: current.status === s }, s)),
  );
  const event = catalog.catalog
    ? h(
        "select",
        { id: "filter-event" },
        h("option", { value: "", selected: !current.event }, "Any event type"),
        catalog.data.map((t) => h("option", { value: t.name, selected: current.event === t.name }, t.name)),
      )
    : h("input", { type: "text", id: "filter-event", value: current.event, placeholder: "e.g. order.created", autocomplete: "off" });
  return h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter deliveries",
      on: {
        submit: (submitted) => {
          submitted.preventDefault();
          navigate(target + query({ status: status.value, event: event.value.trim() }));
        },
      },
    },
    h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), status),
    h("div", { class: "field" }, h("label", { for: "filter-event" }, "Event type"), event),
    h("button", { type: "submit" }, "Filter"),
  );
}

function deliveryItem(delivery, endpointUrl) {
  const outcome = [];
  outcome.push(`${delivery.attempt_count} attempt${delivery.attempt_count === 1 ? "" : "s"}`);
  if (delivery.response_status !== null && delivery.response_status !== undefined) outcome.push(`HTTP ${delivery.response_status}`);
  if (delivery.latency_ms !== null && delivery.latency_ms !== undefined) outcome.push(`${delivery.latency_ms} ms`);
  if (delivery.status === "pending" && delivery.next_retry_at) outcome.push(`next retry ${formatTime(delivery.next_retry_at)}`);
  return h(
    "li",
    { class: "card delivery" },
    h(
      "div",
      { class: "row" },
      badge(delivery.status, delivery.status),
      h("code", {}, delivery.event),
      h("span", { class: "grow" }, link(path("deliveries", delivery.id), delivery.id, { class: "mono small" })),
      h("span", { class: "muted small" }, formatTime(delivery.created_at)),
    ),
    endpointUrl ? h("p", { class: "small url" }, endpointUrl) : null,
    h("p", { class: "muted small" }, outcome.join(" · ")),
    delivery.error ? h("p", { class: "small wrap" }, delivery.error) : null,
  );
}

// Renders a delivery log into `box`: a page, "Load more", and a refresh while any is pending.
function deliveryLog(box, makeLog, generation, endpointUrls) {
  let shown = PAGE_SIZE;
  const load = async () => {
    const log = await makeLog();
    const deliveries = await log.next(shown);
    const list = h(
      "ul",
      { class: "list", "aria-label": "Deliveries" },
      deliveries.map((d) => deliveryItem(d, endpointUrls ? endpointUrls.get(d.webhook_id) : null)),
    );
    const node = h("div", {}, deliveries.length ? list : h("p", { class: "card" }, "No deliveries match."));
    if (log.hasMore) {
      node.append(
        h("div", { class: "actions" }, h("button", {
          type: "button",
          id: "more-deliveries",
          on: {
            click: () => {
              shown += PAGE_SIZE;
              keepFresh(box, load, generation);
            },
          },
        }, "Load more deliveries")),
      );
    }
    return { node, more: true, signature: `${signatureOf(deliveries)}|${log.hasMore}` };
  };
  return keepFresh(box, load, generation);
}

async function deliveriesView({ params, generation }) {
  const endpoints = await allEndpoints();
  const urls = new Map(endpoints.map((e) => [e.id, e.url]));
  const filters = filtersOf(params);
  const box = h("div");
  const section = h(
    "section",
    {},
    h("h1", {}, "Delivery log"),
    h("p", { class: "muted" }, "Every delivery to your endpoints, newest first."),
    await logFilters(params, "#/deliveries"),
    box,
  );
  if (!endpoints.length) {
    box.append(h("p", { class: "card" }, "No endpoints yet, so no deliveries."));
    return section;
  }
  await deliveryLog(box, () => new MergedLog(endpoints, filters), generation, urls);
  return section;
}

async function deliveryView({ parts, generation }) {
  const id = parts[1];
  const box = h("div");
  const section = h("section", {}, h("p", { class: "small" }, link("#/deliveries", "← Delivery log")), h("h1", { class: "mono" }, `Delivery ${id}`), box);
  let event = null;
  let endpoint;
  const load = async () => {
    const delivery = await api("GET", `/v1/deliveries/${encodeURIComponent(id)}`);
    if (endpoint === undefined) {
      endpoint = await api("GET", `/v1/webhooks/${encodeURIComponent(delivery.webhook_id)}`).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      });
    }
    if (event === null) {
      event = await api("GET", `/v1/events/${encodeURIComponent(delivery.event_id)}`).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return { data: "(the event is no longer kept)" };
        throw error;
      });
    }
    const node = h("div", {});
    node.append(
      h(
        "div",
        { class: "card" },
        facts([
          ["Status", badge(delivery.status, delivery.status)],
          delivery.status_reason ? ["Reason", delivery.status_reason] : null,
          ["Event type", h("code", {}, delivery.event)],
          ["Endpoint", endpoint ? link(path("endpoints", endpoint.id), endpoint.url, { class: "url" }) : h("span", { class: "mono" }, `${delivery.webhook_id} (deleted)`)],
          ["Created", formatTime(delivery.created_at)],
          ["Attempts", String(delivery.attempt_count)],
          delivery.next_retry_at ? ["Next retry", formatTime(delivery.next_retry_at)] : null,
          ["Event id", h("span", { class: "mono" }, delivery.event_id)],
        ]),
      ),
    );
    if (writable() && (delivery.status === "failed" || delivery.status === "cancelled")) {
      const retryResult = h("div", { "aria-live": "polite" });
      node.append(
        h("div", { class: "actions" }, actionButton({ class: "primary", id: "retry-delivery" }, "Retry delivery", async () => {
          await api("POST", `/v1/deliveries/${encodeURIComponent(id)}/retry`);
          navigate(path("deliveries", id), "Delivery queued again");
        }, showInline(retryResult))),
        retryResult,
      );
    }
    node.append(h("h2", { id: "attempts-title" }, "Attempts"));
    if (!delivery.attempts.length) {
      node.append(h("p", { class: "card" }, "No attempt yet."));
    } else {
      node.append(
        h(
          "div",
          { class: "table-wrap", role: "region", "aria-labelledby": "attempts-title", tabindex: "0" },
          h(
            "table",
            {},
            h("thead", {}, h("tr", {}, ["#", "Time", "Response", "Latency", "Error", "Next retry"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              delivery.attempts.map((attempt) => [
                h(
                  "tr",
                  { class: "attempt" },
                  h("td", {}, attempt.series > 1 ? `${attempt.number} (series ${attempt.series})` : String(attempt.number)),
                  h("td", {}, formatTime(attempt.attempted_at)),
                  h(
                    "td",
                    {},
                    attempt.response_status === null ? "none" : `HTTP ${attempt.response_status}`,
                    attempt.retry_after_seconds !== null && attempt.retry_after_seconds !== undefined
                      ? h("span", { class: "retry-after muted small" }, `Retry-After: ${attempt.retry_after_seconds} s`)
                      : null,
                  ),
                  h("td", {}, `${attempt.latency_ms} ms`),
                  h("td", { class: "wrap" }, attempt.error || ""),
                  h("td", {}, formatTime(attempt.next_retry_at)),
                ),
                attempt.response_excerpt
                  ? h("tr", { class: "excerpt" }, h("td", { colspan: "6" }, h("span", { class: "muted small" }, "Response body (excerpt)"), h("pre", { class: "response-excerpt" }, attempt.response_excerpt)))
                  : null,
              ]),
            ),
          ),
        ),
      );
    }
    node.append(
      h("h2", {}, "Event payload"),
      h("pre", { class: "event-data" }, typeof event.data === "string" ? event.data : JSON.stringify(event.data, null, 2)),
    );
    return { node, more: delivery.status === "pending", signature: JSON.stringify(delivery) };
  };
  await keepFresh(box, load, generation);
  return section;
}

// ---- event types -------------------------------------------------------------------------

async function eventTypesView() {
  const catalog = await eventTypes();
  const section = h("section", {}, h("h1", {}, "Event types"));
  if (!catalog.catalog && catalog.data.length === 0) {
    section.append(
      h("p", { class: "card" }, "This service publishes no event-type catalog. Subscribe to event types by name, to a family with prefix.*, or to everything with *."),
    );
    return section;
  }
  section.append(
    h("p", { class: "muted" }, catalog.catalog
      ? "The events you can subscribe an endpoint to. A subscription may also name a family (prefix.*) or everything (*)."
      : "Documented event types. This service accepts other event types too; a subscription may also name a family (prefix.*) or everything (*)."),
    h(
      "ul",
      { class: "list", "aria-label": "Event types" },
      catalog.data.map((type) =>
        h(
          "li",
          { class: "card event-type" },
          h("h2", { class: "mono" }, type.name, type.deprecated ? h("span", { class: "badge deprecated" }, "deprecated") : null),
          type.description ? h("p", {}, type.description) : null,
          type.schema ? [h("p", { class: "muted small" }, "Schema"), h("pre", {}, JSON.stringify(type.schema, null, 2))] : null,
          type.example !== undefined && type.example !== null ? [h("p", { class: "muted small" }, "Example"), h("pre", {}, JSON.stringify(type.example, null, 2))] : null,
        ),
      ),
    ),
  );
  return section;
}

// ---- start -------------------------------------------------------------------------------

async function start() {
  applyBranding();
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const theme = fragment.get("theme");
  const prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  setTheme(theme === "dark" || theme === "light" ? theme : prefersDark ? "dark" : "light");
  document.getElementById("theme-toggle").addEventListener("click", () => setTheme(root.dataset.theme === "dark" ? "light" : "dark"));
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // the fragment is the portal's route
    document.getElementById("main").focus();
  });

  const token = fragment.get("token");
  if (token) {
    state.token = token;
    history.replaceState(null, "", `${location.pathname}${location.search}#/endpoints`);
  }
  if (!state.token) {
    endSession("No portal session", `This page opens from a portal link of ${brandName}, which carries a session.`);
    return;
  }
  try {
    state.session = await api("GET", "/portal/session");
  } catch (error) {
    if (!(error instanceof SessionEnded)) endSession("The portal could not start", messageOf(error));
    return;
  }
  showSession();
  window.addEventListener("hashchange", render);
  render();
}

start();
