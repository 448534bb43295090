// The relay's operator console (runtime/relay/console.py serves it at /console behind
// PAYMAP_CONSOLE_TOKEN): overview, event list, event page, replay. One page script for the three
// pages; links are real URLs (open in a new tab works), navigation inside swaps the view.
import { el } from "./api.js";
import { encodeWebhook } from "./handover.js";
import "./console.css";

const PREFIX = document.getElementById("app").dataset.prefix || "/console";
const app = document.getElementById("app");
let csrf = null;
let playgroundBase = "http://127.0.0.1:8765/";

// ------------------------------------------------------------------------------------ API
class ConsoleError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(`${PREFIX}/api/${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== "" && v != null) url.searchParams.set(k, v);
  const headers = {};
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrf || "";
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch (err) {
    throw new ConsoleError("cannot reach the relay: is `paymap serve` still running?", 0);
  }
  if (response.status === 401) {
    location.assign(`${PREFIX}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ConsoleError("the session ended: log in again", 401);
  }
  let data;
  try { data = await response.json(); } catch (err) { throw new ConsoleError(`the relay answered ${response.status} without JSON`, response.status); }
  if (!response.ok) throw new ConsoleError(data.error || `error ${response.status}`, response.status);
  return data;
}

// ------------------------------------------------------------------------------------ helpers
const pad = (n) => String(n).padStart(2, "0");
function when(epoch) {
  if (epoch == null) return "—";
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function age(seconds) {
  if (seconds == null) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}
const json = (v) => JSON.stringify(v, null, 2);
const badge = (state) => el("span", { class: `badge s-${state}`, "data-testid": "state" }, state);
const link = (href, ...children) => el("a", { href, "data-nav": "" }, ...children);
const eventHref = (id) => `${PREFIX}/events/${encodeURIComponent(id)}`;
function toEpoch(local) { return local ? String(new Date(local).getTime() / 1000) : ""; }
function toLocal(epoch) {
  if (!epoch) return "";
  const d = new Date(Number(epoch) * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function problem(err) {
  return el("p", { class: "error", role: "alert", "data-testid": "error" }, err.message || String(err));
}

// ------------------------------------------------------------------------------------ shell
function frame(current, ...content) {
  const nav = (href, label, name) => el("a", { href, "data-nav": "", class: current === name ? "current" : null }, label);
  const logout = el("button", { type: "button", "data-testid": "logout", onclick: async () => {
    await fetch(`${PREFIX}/logout`, { method: "POST", headers: { "X-CSRF-Token": csrf || "" }, credentials: "same-origin" });
    location.assign(`${PREFIX}/login`);
  } }, "Log out");
  app.replaceChildren(
    el("header", {},
      el("h1", {}, "paymap ", el("span", {}, "console")),
      nav(`${PREFIX}/`, "Overview", "overview"),
      nav(`${PREFIX}/events`, "Events", "events"),
      el("span", { class: "spacer" }),
      logout),
    el("main", {}, ...content));
}

// ------------------------------------------------------------------------------------ overview
function chart(t) {
  const w = 600, h = 120, n = t.received.length;
  const rate = (c) => c / t.bucket_seconds;
  const max = Math.max(0.001, ...t.received.map(rate), ...t.delivered.map(rate));
  const bw = w / n;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h + 16}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "webhooks received and events delivered per second, last hour, one bar a minute");
  const bar = (i, value, cls, dx) => {
    const r = document.createElementNS(svg.namespaceURI, "rect");
    const bh = (rate(value) / max) * h;
    r.setAttribute("x", String(i * bw + dx)); r.setAttribute("width", String(bw / 2 - 0.5));
    r.setAttribute("y", String(h - bh)); r.setAttribute("height", String(bh)); r.setAttribute("class", cls);
    const title = document.createElementNS(svg.namespaceURI, "title");
    title.textContent = `${when(t.start + i * t.bucket_seconds).slice(11, 16)}: ${rate(value).toFixed(2)}/s`;
    r.append(title);
    svg.append(r);
  };
  t.received.forEach((v, i) => bar(i, v, "received", 0));
  t.delivered.forEach((v, i) => bar(i, v, "delivered", bw / 2));
  const label = document.createElementNS(svg.namespaceURI, "text");
  label.setAttribute("x", "0"); label.setAttribute("y", String(h + 13)); label.setAttribute("class", "axis");
  label.textContent = `peak ${max.toFixed(2)}/s · 60 min ago → now`;
  svg.append(label);
  const total = (a) => a.reduce((x, y) => x + y, 0);
  return el("div", {},
    svg,
    el("p", { class: "muted legend" },
      el("span", { class: "key received" }), ` received: ${total(t.received)} webhooks  `,
      el("span", { class: "key delivered" }), ` delivered: ${total(t.delivered)} events`));
}

function counts(title, data, states, hrefFor) {
  return el("section", { class: "card" }, el("h2", {}, title),
    el("table", { class: "counts" }, states.map((s) => el("tr", {},
      el("td", {}, hrefFor ? link(hrefFor(s), s) : s), el("td", { class: "num", "data-testid": `count-${s}` }, String(data[s] ?? 0))))));
}

const REFRESH_MS = 10_000; // the overview follows the relay while it is open
let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => (document.visibilityState === "visible" ? overview({ quiet: true }) : scheduleRefresh()), REFRESH_MS);
}

async function overview({ quiet = false } = {}) {
  if (!quiet) frame("overview", el("p", { class: "muted" }, "loading…"));
  let o;
  try { o = await api("overview"); } catch (err) { if (!quiet) frame("overview", problem(err)); return; }
  if (location.pathname.slice(PREFIX.length) !== "/" && location.pathname !== PREFIX) return; // navigated away
  scheduleRefresh();
  const s = o.sender;
  const reload = o.mappings.last_reload;
  const byState = (s) => `${PREFIX}/events?state=${s}`;
  frame("overview",
    o.insecure_dev ? el("p", { class: "bad", "data-testid": "insecure" },
      "INSECURE DEV MODE: the relay accepts webhooks WITHOUT checking their signatures") : null,
    el("div", { class: "cards" },
      counts("Webhooks", o.webhooks, ["received", "mapped", "skipped", "dropped", "failed"], byState),
      counts("Events", o.events, ["pending", "delivered", "dead", "superseded"], (st) => (st === "superseded" ? null : byState(st))),
      el("section", { class: "card", "data-testid": "queue" }, el("h2", {}, "Queue"),
        // as `paymap status`: never "0 due now" — when nothing is due, when the next attempt is
        el("p", {}, el("b", {}, String(o.queue_depth)), " waiting",
          o.queue_depth ? (o.ready_now ? `, ${o.ready_now} due now`
            : o.next_attempt_in_seconds ? `, next attempt in ${age(Math.ceil(o.next_attempt_in_seconds))}` : ", due now") : ""),
        el("p", {}, "oldest waiting: ", el("b", {}, age(o.oldest_pending_age_seconds))),
        o.oldest_pending_reason ? el("p", { class: "warn" }, `why: ${o.oldest_pending_reason}`) : null),
      el("section", { class: "card", "data-testid": "sender" }, el("h2", {}, "Sender"),
        s.paused ? el("p", { class: "bad", "data-testid": "paused" }, `PAUSED for ${age(s.paused_for_seconds)}: ${s.paused}`)
          : el("p", { class: "good" }, "delivering"),
        el("p", { class: "muted" }, "to ", el("code", {}, s.target || "—")),
        el("p", { class: "muted" }, "last delivery: ", when(s.last_delivery_at)),
        s.last_error && !s.paused ? el("p", { class: "warn" }, `last error: ${s.last_error}`) : null),
      el("section", { class: "card", "data-testid": "mappings" }, el("h2", {}, "Mappings"),
        el("p", {}, el("code", {}, o.mappings.path), ` · set #${o.mappings.generation}, loaded ${when(o.mappings.loaded_at)}`),
        reload == null ? el("p", { class: "muted" }, "no reload since the start")
          : reload.ok ? el("p", { class: "good" }, `last reload ${when(reload.at)} (${reload.trigger}): in use`)
            : el("div", { "data-testid": "reload-rejected" },
              el("p", { class: "bad" }, `last reload ${when(reload.at)} (${reload.trigger}) REJECTED: the previous set is still in use`),
              el("pre", { class: "diagnostics" }, reload.diagnostics || "")))),
    el("section", { class: "wide" }, el("h2", {}, "Throughput, last hour"), chart(o.throughput)),
    o.failed_webhooks.length || o.dead_letters.length ? el("section", { class: "wide" }, el("h2", {}, "Needs attention"),
      el("table", { class: "list" },
        o.failed_webhooks.map((f) => el("tr", {}, el("td", {}, badge("failed")), el("td", {}, link(eventHref(f.webhook_id), f.webhook_id)),
          el("td", {}, f.type || ""), el("td", { class: "err" }, f.error || ""))),
        o.dead_letters.map((d) => el("tr", {}, el("td", {}, badge("dead")), el("td", {}, link(eventHref(d.webhook_id), d.webhook_id)),
          el("td", {}, d.name || ""), el("td", { class: "err" }, d.reason || ""))))) : null);
}

// ------------------------------------------------------------------------------------ event list
const FILTERS = ["state", "type", "since", "until", "q"];

async function events() {
  const params = new URLSearchParams(location.search);
  const filter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
  const before = params.get("before") || "";
  let meta = { types: [], states: [] };
  try { meta = await api("types"); } catch (err) { /* the list says why below */ }
  const select = (name, options, label) => el("label", {}, label, " ",
    el("select", { name, "data-testid": `filter-${name}` }, el("option", { value: "" }, "any"),
      options.map((o) => el("option", { value: o, selected: filter[name] === o }, o))));
  const form = el("form", { class: "filters", "data-testid": "filters" },
    select("state", meta.states, "state"),
    select("type", meta.types, "type"),
    el("label", {}, "from ", el("input", { type: "datetime-local", name: "since", value: toLocal(filter.since), "data-testid": "filter-since" })),
    el("label", {}, "to ", el("input", { type: "datetime-local", name: "until", value: toLocal(filter.until), "data-testid": "filter-until" })),
    el("label", {}, "id ", el("input", { type: "search", name: "q", value: filter.q, placeholder: "webhook-id or event id (start)", size: 28, "data-testid": "filter-q" })),
    el("button", { type: "submit", class: "primary" }, "Filter"),
    el("button", { type: "button", onclick: () => go(`${PREFIX}/events`) }, "Clear"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const q = new URLSearchParams();
    for (const k of FILTERS) {
      let v = String(f.get(k) || "");
      if (k === "since" || k === "until") v = toEpoch(v);
      if (v) q.set(k, v);
    }
    go(`${PREFIX}/events${q.toString() ? `?${q}` : ""}`);
  });
  const body = el("div", {}, el("p", { class: "muted" }, "loading…"));
  const replayBox = el("div", { class: "bulk", "data-testid": "bulk" });
  frame("events", el("section", { class: "wide" }, el("h2", {}, "Events"), form, replayBox, body));
  let page;
  try { page = await api("webhooks", { query: { ...filter, before, limit: 50 } }); } catch (err) { body.replaceChildren(problem(err)); return; }
  const rows = page.items.map((w) => el("tr", { "data-testid": "row", "data-id": w.webhook_id },
    el("td", { class: "time" }, when(w.received_at)),
    el("td", {}, link(eventHref(w.webhook_id), w.webhook_id)),
    el("td", {}, w.type || el("span", { class: "muted" }, "—")),
    el("td", {}, badge(w.state)),
    el("td", { class: "evs" }, Object.entries(w.events).map(([s, n]) => el("span", { class: `mini s-${s}` }, `${n} ${s}`))),
    el("td", { class: "err" }, w.location ? el("code", {}, `${w.location.file.split("/").pop()}:${w.location.line}`) : null, " ", w.message || w.error || "")));
  const nav = el("p", { class: "pager" },
    before ? el("button", { type: "button", onclick: () => { params.delete("before"); go(`${PREFIX}/events?${params}`); } }, "« Newest") : null,
    page.next ? el("button", { type: "button", "data-testid": "older", onclick: () => { params.set("before", page.next); go(`${PREFIX}/events?${params}`); } }, "Older »") : null);
  body.replaceChildren(
    page.items.length ? el("table", { class: "list", "data-testid": "list" },
      el("thead", {}, el("tr", {}, ["received", "webhook-id", "type", "state", "events", "error"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)) : el("p", { class: "muted", "data-testid": "empty" }, "No webhook matches."),
    nav);
  // bulk replay: always the whole filtered set (not just this page), counted first
  // include_delivered changes what would be sent: a tick counts again
  const count = async (includeDelivered) => {
    replayBox.replaceChildren(el("span", { class: "muted" }, "counting…"));
    try {
      const got = await api("replay", { method: "POST", body: { filter, dry_run: true, include_delivered: includeDelivered } });
      if (!got.selected) { replayBox.replaceChildren(el("span", {}, "Nothing matches: nothing to replay.")); return; }
      const newIds = el("input", { type: "checkbox", id: "bulk-new-ids" });
      const incl = el("input", { type: "checkbox", id: "bulk-include-delivered", "data-testid": "bulk-include-delivered" });
      incl.checked = includeDelivered;
      incl.addEventListener("change", () => count(incl.checked));
      replayBox.replaceChildren(
        el("p", { "data-testid": "dry-run" }, got.summary, " with the mappings on disk now."),
        replayNotes(got),
        got.failures.length ? el("ul", { class: "err" }, got.failures.slice(0, 5).map((f) => el("li", {}, `${f.what}: ${f.why}`))) : null,
        el("label", { for: "bulk-new-ids" }, newIds, " give the events new ids (Inngest runs its functions again)"), " ",
        el("label", { for: "bulk-include-delivered" }, incl, " include delivered events"), " ",
        el("button", { type: "button", class: "primary", "data-testid": "replay-confirm", onclick: async () => {
          try {
            const run = await api("replay", { method: "POST", body: { filter, as_of: got.as_of, new_ids: newIds.checked, include_delivered: incl.checked } });
            replayBox.replaceChildren(el("p", { class: "good", "data-testid": "replayed" }, run.summary), replayNotes(run));
          } catch (err) { replayBox.replaceChildren(problem(err)); }
        } }, `Replay these ${got.selected}`),
        " ", el("button", { type: "button", onclick: () => replayBox.replaceChildren(dry) }, "Cancel"));
    } catch (err) { replayBox.replaceChildren(problem(err), dry); }
  };
  const dry = el("button", { type: "button", "data-testid": "replay-all", onclick: () => count(false) }, "Replay all matching…");
  replayBox.replaceChildren(dry);
}

// a replay's notes (delivered events left out), warnings (what Inngest does with the ids) and new ids
function replayNotes(got) {
  return el("div", { class: "replay-notes", "data-testid": "replay-notes" },
    got.notes.map((n) => el("p", { class: "muted" }, n)),
    got.warnings.map((w) => el("p", { class: "warn" }, w)),
    got.new_ids.length ? el("ul", { "data-testid": "new-ids-list" }, got.new_ids.map((r) => el("li", {}, el("code", {}, r.webhook_id), " → ", el("code", {}, r.event_id)))) : null);
}

// ------------------------------------------------------------------------------------ event page
function playgroundLink(w) {
  // the playground (`paymap playground`) runs on the operator's computer; see handover.js
  return `${playgroundBase}#${encodeWebhook(w.body)}`;
}

async function eventPage(id) {
  frame("events", el("p", { class: "muted" }, "loading…"));
  let w;
  try { w = await api(`webhooks/${encodeURIComponent(id)}`); } catch (err) { frame("events", problem(err)); return; }
  const result = el("div", { "data-testid": "replay-result" });
  const newIds = el("input", { type: "checkbox", id: "new-ids" });
  const inclDelivered = el("input", { type: "checkbox", id: "include-delivered", "data-testid": "include-delivered" });
  const replayOne = el("button", { type: "button", class: "primary", "data-testid": "replay", onclick: async () => {
    replayOne.disabled = true;
    result.replaceChildren(el("span", { class: "muted" }, "replaying…"));
    try {
      const got = await api("replay", { method: "POST", body: { webhook_id: w.webhook_id, new_ids: newIds.checked, include_delivered: inclDelivered.checked } });
      result.replaceChildren(el("p", { class: got.counts.failed ? "bad" : "good" }, got.summary), replayNotes(got),
        got.failures.length ? el("ul", { class: "err" }, got.failures.map((f) => el("li", {}, `${f.what}: ${f.why}`))) : null);
      setTimeout(() => refreshEvents(w.webhook_id), 300);
    } catch (err) { result.replaceChildren(problem(err)); }
    replayOne.disabled = false;
  } }, "Replay");
  const loc = w.location;
  const failure = w.error ? el("section", { class: "wide failure", "data-testid": "failure" },
    el("h2", {}, "Mapping failed"),
    el("p", { class: "bad", "data-testid": "failure-message" }, w.message || w.error),
    loc ? el("div", {},
      el("p", {}, "at ", el("code", { "data-testid": "map-location" }, `${loc.file}:${loc.line}:${loc.column}`)),
      loc.excerpt ? el("pre", { class: "excerpt", "data-testid": "map-excerpt" }, loc.excerpt.map((r) =>
        el("div", { class: r.line === loc.line ? "hit" : null }, el("span", { class: "ln" }, String(r.line).padStart(4, " ")), "  ", r.text))) : null) : null) : null;
  const eventsBox = el("div", { "data-testid": "events" });
  frame("events",
    el("section", { class: "wide" },
      el("p", {}, link(`${PREFIX}/events`, "« events")),
      el("h2", {}, "Webhook ", el("code", { "data-testid": "webhook-id" }, w.webhook_id)),
      el("p", {}, badge(w.state), " ", el("b", {}, w.type || "(no type)"), el("span", { class: "muted" }, ` · received ${when(w.received_at)} · mapped ${w.generation + 1} time(s)`)),
      el("p", { class: "actions" }, replayOne, " ", el("label", { for: "new-ids" }, newIds, " new event ids"), " ",
        el("label", { for: "include-delivered" }, inclDelivered, " include delivered events"), " ",
        el("a", { href: `${PREFIX}/api/webhooks/${encodeURIComponent(w.webhook_id)}/body`, download: "", class: "button", "data-testid": "download" }, "Download body"), " ",
        el("a", { href: playgroundLink(w), target: "_blank", rel: "noopener noreferrer", class: "button", "data-testid": "playground" }, "Open in playground"),
        el("span", { class: "muted hint" }, " (run `paymap playground` on your computer first)")),
      result),
    failure,
    el("section", { class: "wide" }, el("h2", {}, "Inngest events and delivery attempts"), eventsBox),
    el("div", { class: "two" },
      el("section", {}, el("h2", {}, "Body"), el("pre", { class: "json", "data-testid": "body" }, w.body_json ? json(w.body_json) : w.body)),
      el("section", {}, el("h2", {}, "Headers"), el("table", { class: "headers", "data-testid": "headers" },
        Object.entries(w.headers).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, el("code", {}, v))))))));
  renderEvents(eventsBox, w);
}

function renderEvents(box, w) {
  if (!w.events.length) {
    box.replaceChildren(el("p", { class: "muted" }, w.state === "received" ? "not mapped yet" : `no event (${w.state})`));
    return;
  }
  box.replaceChildren(...w.events.map((e) => el("div", { class: `event ${e.current ? "" : "old"}`, "data-testid": "event", "data-state": e.state },
    el("p", {}, badge(e.state), " ", el("b", {}, e.name || "(no name)"), " ", el("code", {}, e.event_id || ""),
      el("span", { class: "muted" }, e.current ? ` · mapping #${e.generation + 1}` : ` · mapping #${e.generation + 1} (replaced by a replay)`),
      e.state === "pending" && e.next_attempt_at ? el("span", { class: "muted" }, ` · next attempt ${when(e.next_attempt_at)}`) : null),
    e.last_error ? el("p", { class: e.state === "delivered" ? "muted" : "bad", "data-testid": "event-error" }, e.last_error) : null,
    e.history.length ? el("table", { class: "attempts", "data-testid": "attempts" },
      el("tr", {}, ["attempt", "at", "HTTP", "outcome", "error"].map((h) => el("th", {}, h))),
      e.history.map((a, i) => el("tr", { class: `o-${a.outcome}` }, el("td", {}, String(i + 1)), el("td", {}, when(a.at)),
        el("td", {}, a.status ? String(a.status) : "no answer"), el("td", {}, a.outcome), el("td", { class: "err" }, a.error || ""))))
      : el("p", { class: "muted" }, "no delivery attempt yet"),
    el("details", {}, el("summary", {}, "payload"), el("pre", { class: "json" }, json(e.payload))))));
}

async function refreshEvents(id) {
  // after a replay: follow the new events until they settle (delivered or dead), for up to a minute
  for (let i = 0; i < 60; i++) {
    let w;
    try { w = await api(`webhooks/${encodeURIComponent(id)}`); } catch (err) { return; }
    if (!location.pathname.endsWith(`/events/${encodeURIComponent(id)}`)) return;
    const box = document.querySelector('[data-testid="events"]');
    if (!box) return;
    renderEvents(box, w);
    const state = document.querySelector('[data-testid="state"]');
    if (state) { state.textContent = w.state; state.className = `badge s-${w.state}`; }
    const failure = document.querySelector('[data-testid="failure"]');
    if (failure && !w.error) failure.remove();
    if (w.events.filter((e) => e.current).every((e) => e.state !== "pending") && w.state !== "received") return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ------------------------------------------------------------------------------------ router
function go(href) {
  history.pushState(null, "", href);
  route();
}

async function route() {
  clearTimeout(refreshTimer);
  const path = location.pathname.slice(PREFIX.length);
  document.body.dataset.ready = "no";
  if (path.startsWith("/events/")) await eventPage(decodeURIComponent(path.slice("/events/".length)));
  else if (path === "/events") await events();
  else await overview();
  document.body.dataset.ready = "yes";
}

document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a[data-nav]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  go(a.getAttribute("href"));
});
window.addEventListener("popstate", route);

(async () => {
  try {
    const session = await api("session");
    csrf = session.csrf_token;
    playgroundBase = session.playground_url || playgroundBase;
  } catch (err) { /* 401 sends to the login page */ }
  await route();
})();
