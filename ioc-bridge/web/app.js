// Gatewatch IOC web UI: plain JavaScript, no CDN, no build step. Talks to the JSON API with the
// session cookie; sends the CSRF token on every state-changing request.
"use strict";

const $ = (sel) => document.querySelector(sel);
let session = null;
let source = null;

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function localTime(t) {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

async function api(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.method && opts.method !== "GET" && session) headers["X-CSRF-Token"] = session.csrf_token;
  const r = await fetch(path, {
    method: opts.method || "GET",
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: "same-origin",
  });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (!r.ok) {
    const err = new Error((data && data.error) || `${r.status} ${r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return data;
}

function showError(e) {
  $("#error").textContent = e ? String(e.message || e) : "";
}

// --- log-in --------------------------------------------------------------------------------

async function start() {
  try {
    session = await api("/api/session");
    enterApp();
  } catch (e) {
    if (e.status === 401) showLogin(); else showError(e);
  }
}

function showLogin() {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-user").focus();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#login-error").textContent = "";
  try {
    await api("/api/login", { method: "POST", body: { username: $("#login-user").value, password: $("#login-pass").value } });
    session = await api("/api/session");
    $("#login-pass").value = "";
    enterApp();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
});

$("#logout").addEventListener("click", async () => {
  try { await api("/api/logout", { method: "POST", body: {} }); } catch { /* gone anyway */ }
  if (source) source.close();
  session = null;
  showLogin();
});

function enterApp() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = `${session.username} (${session.role})`;
  document.querySelectorAll("[data-admin]").forEach((el) => { el.hidden = !session.may.admin; });
  document.querySelectorAll("[data-enrol]").forEach((el) => { el.hidden = !session.may.enrol; });
  openTab("live");
  refreshStats();
  connectLive();
}

// --- tabs ----------------------------------------------------------------------------------

const loaders = {
  live: loadWall,
  alerts: loadAlerts,
  counts: loadCounts,
  gate: () => {},
  people: loadPeople,
  search: () => {},
  audit: loadAudit,
};

function openTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll("main > section").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  showError(null);
  Promise.resolve(loaders[name]()).catch(showError);
}

document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => openTab(b.dataset.tab)));

// --- live wall -----------------------------------------------------------------------------

function describe(e) {
  const p = e.payload || {};
  switch (e.kind) {
    case "face_match": return `${esc(e.person_name || e.person_id)} recognised`;
    case "watchlist_hit": return `WATCH LIST: ${esc(e.person_name || e.person_id)}`;
    case "unknown_person": return "unknown person";
    case "gate_crossing": return `${p.direction === "in" ? "entry" : "exit"} at ${esc(p.gate_id)}`;
    case "gate_count": return `${esc(p.gate_id)}: ${p.entries} in, ${p.exits} out`;
    case "plate_read": return `plate ${esc(p.plate)}${p.vehicle ? ` (${esc(p.vehicle)})` : ""}`;
    default: return esc(e.kind);
  }
}

function card(e, fresh) {
  const div = document.createElement("div");
  div.className = `ev ${e.kind}${fresh ? " fresh" : ""}`;
  div.dataset.eventId = e.event_id;
  div.dataset.kind = e.kind;
  const img = e.snapshot_sha256 ? `<img alt="snapshot" loading="lazy" src="/api/snapshots/${esc(e.snapshot_sha256)}">` : "";
  div.innerHTML = `${img}<div><span class="kind ${esc(e.kind)}">${esc(e.kind)}</span><div class="what">${describe(e)}</div>
    <div class="muted">${esc(e.site_id)} / ${esc(e.camera_id)}</div><div class="muted">${esc(localTime(e.captured_at))}</div></div>`;
  return div;
}

async function loadWall() {
  const r = await api("/api/events?limit=60");
  const wall = $("#wall");
  wall.replaceChildren(...r.events.filter((e) => e.kind !== "gate_count").map((e) => card(e, false)));
  const edges = await api("/api/edges");
  $("#edges").innerHTML = edges.edges.map((x) => `<span class="edge ${x.state === "online" ? "" : "offline"}" data-edge="${esc(x.edge_id)}">${esc(x.site_id)}/${esc(x.edge_id)}: ${esc(x.state)}${(x.cameras || []).map((c) =>
    ` <span class="camera ${c.state === "running" && !c.stale ? "" : "offline"}" data-camera="${esc(c.camera_id)}" title="${esc(c.status && c.status.last_error || "")}">${esc(c.camera_id)} ${esc(c.state)}${c.stale ? " (stale)" : ""}</span>`).join("")}</span>`).join("");
}

function connectLive() {
  if (source) source.close();
  source = new EventSource("/api/events/stream");
  source.addEventListener("open", () => { $("#live-state").textContent = "live"; });
  source.addEventListener("error", () => { $("#live-state").textContent = "reconnecting…"; });
  source.addEventListener("stored", (m) => {
    const e = JSON.parse(m.data);
    if (e.kind !== "gate_count") {
      const wall = $("#wall");
      wall.prepend(card(e, true));
      while (wall.children.length > 200) wall.lastChild.remove();
    }
    if (e.kind === "watchlist_hit") refreshStats();
  });
  source.addEventListener("lagged", () => { loadWall().catch(showError); });
}

async function refreshStats() {
  try {
    const s = await api("/api/stats");
    const k = s.store.events_by_kind || {};
    $("#stats").innerHTML = ["face_match", "watchlist_hit", "unknown_person", "gate_crossing"]
      .map((n) => `<span>${n.replace("_", " ")} <b>${k[n] || 0}</b></span>`).join("") +
      `<span>quarantined <b>${s.store.quarantined}</b></span>`;
    $("#open-alerts").textContent = s.store.open_alerts;
  } catch (e) { showError(e); }
}
setInterval(() => { if (session) refreshStats(); }, 15000);

// --- alerts --------------------------------------------------------------------------------

const NEXT = { new: [["in_progress", "Take"], ["closed", "Close"]], in_progress: [["closed", "Close"]], closed: [["in_progress", "Reopen"]] };

async function loadAlerts() {
  const state = $("#alert-state").value;
  const r = await api(`/api/alerts${state ? `?state=${state}` : ""}`);
  const tbody = $("#alerts tbody");
  tbody.replaceChildren(...r.alerts.map((a) => {
    const tr = document.createElement("tr");
    tr.dataset.alertId = a.event_id;
    const buttons = session.may.handle_alerts
      ? (NEXT[a.state] || []).map(([to, label]) => `<button data-to="${to}">${label}</button>`).join(" ")
      : "";
    tr.innerHTML = `<td>${esc(localTime(a.raised_at))}</td><td>${esc(a.person_name || a.person_id)}</td>
      <td>${esc(a.site_id)} / ${esc(a.camera_id)}</td><td class="state state-${esc(a.state)}">${esc(a.state.replace("_", " "))}</td>
      <td>${esc(a.updated_by || "")} ${esc(localTime(a.updated_at))}</td><td>${buttons} <button data-show>History</button></td>`;
    tr.querySelectorAll("button[data-to]").forEach((b) => b.addEventListener("click", () => moveAlert(a.event_id, b.dataset.to)));
    tr.querySelector("button[data-show]").addEventListener("click", () => showAlert(a.event_id));
    return tr;
  }));
}

async function moveAlert(id, to) {
  try {
    const note = to === "closed" ? (prompt("Note for closing (optional)") || "") : "";
    await api(`/api/alerts/${id}/transition`, { method: "POST", body: { to, note } });
    await loadAlerts();
    await showAlert(id);
    refreshStats();
  } catch (e) { showError(e); }
}

async function showAlert(id) {
  const r = await api(`/api/alerts/${id}`);
  const box = $("#alert-detail");
  const img = r.event && r.event.snapshot_sha256 ? `<img alt="evidence" src="/api/snapshots/${esc(r.event.snapshot_sha256)}" style="max-width:240px">` : "";
  box.innerHTML = `<h3>${esc(r.alert.person_name || r.alert.person_id)} — ${esc(r.alert.site_id)} / ${esc(r.alert.camera_id)}</h3>${img}
    <ol class="history">${r.history.map((h) => `<li>${esc(localTime(h.at))}: <b>${esc(h.actor)}</b> ${esc(h.from_state || "")} → <span class="state-${esc(h.to_state)}">${esc(h.to_state)}</span> ${esc(h.note)}</li>`).join("")}</ol>`;
  box.hidden = false;
}

$("#alert-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadAlerts().catch(showError); });

// --- counts --------------------------------------------------------------------------------

async function loadCounts() {
  const site = $("#count-site").value.trim();
  const period = $("#count-period").value;
  const r = await api(`/api/counts?period=${period}${site ? `&site=${encodeURIComponent(site)}` : ""}`);
  const rows = r.buckets;
  $("#count-table tbody").innerHTML = rows.map((b) => `<tr data-gate="${esc(b.gate_id)}" data-start="${esc(b.start)}"><td>${esc(localTime(b.start))}</td><td>${esc(b.site_id)}</td>
    <td>${esc(b.camera_id)}</td><td>${esc(b.gate_id)}</td><td class="in">${b.entries}</td><td class="out">${b.exits}</td></tr>`).join("");
  $("#count-chart").innerHTML = chart(rows, period);
}

// Grouped bars per time bucket: entries (green) and exits (blue), summed over gates, each with
// its value on top; the axis says the hour (or the day) of each bucket in local time.
function chart(rows, period) {
  if (!rows.length) return `<p class="muted">No counts in this period.</p>`;
  const byStart = new Map();
  for (const b of rows) {
    const v = byStart.get(b.start) || { entries: 0, exits: 0 };
    v.entries += b.entries; v.exits += b.exits;
    byStart.set(b.start, v);
  }
  const keys = [...byStart.keys()].sort((a, b) => new Date(a) - new Date(b));
  const max = Math.max(1, ...keys.map((k) => Math.max(byStart.get(k).entries, byStart.get(k).exits)));
  const w = 28, h = 160, pad = 24, top = 36;
  const axis = (k, i) => {
    const d = new Date(k);
    if (period === "day") return d.toLocaleDateString([], { day: "2-digit", month: "2-digit" });
    const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const prev = i > 0 ? new Date(keys[i - 1]) : null;
    return !prev || prev.toDateString() !== d.toDateString()
      ? [hm, d.toLocaleDateString([], { day: "2-digit", month: "2-digit" })] : [hm];
  };
  const bars = keys.map((k, i) => {
    const v = byStart.get(k);
    const x = pad + i * (2 * w + 12);
    const hi = (v.entries / max) * h, ho = (v.exits / max) * h;
    const label = localTime(k);
    const lines = [].concat(axis(k, i));
    return `<g data-start="${esc(k)}"><rect class="in" data-kind="in" data-value="${v.entries}" x="${x}" y="${top + h - hi}" width="${w}" height="${hi}"><title>${esc(label)}: ${v.entries} in</title></rect>
      <rect class="out" data-kind="out" data-value="${v.exits}" x="${x + w}" y="${top + h - ho}" width="${w}" height="${ho}"><title>${esc(label)}: ${v.exits} out</title></rect>
      <text class="value" x="${x + w / 2}" y="${top + h - hi - 4}" text-anchor="middle">${v.entries}</text>
      <text class="value" x="${x + w * 1.5}" y="${top + h - ho - 4}" text-anchor="middle">${v.exits}</text>
      ${lines.map((t, j) => `<text class="axis" x="${x + w}" y="${top + h + 14 + j * 12}" text-anchor="middle">${esc(t)}</text>`).join("")}</g>`;
  }).join("");
  const width = Math.max(240, pad * 2 + keys.length * (2 * w + 12));
  return `<svg id="count-svg" role="img" aria-label="entries and exits per ${period === "day" ? "day" : "hour"}" width="${width}" height="${top + h + 44}">
    <rect class="in" x="${pad}" y="6" width="10" height="10"></rect><text x="${pad + 14}" y="15">in</text>
    <rect class="out" x="${pad + 40}" y="6" width="10" height="10"></rect><text x="${pad + 54}" y="15">out</text>
    <text x="${pad + 90}" y="15" class="muted">per ${period === "day" ? "day" : "hour"}, all gates</text>${bars}</svg>`;
}

$("#count-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadCounts().catch(showError); });

// --- gate view -----------------------------------------------------------------------------

function item(e) {
  const img = e.snapshot_sha256 ? `<img alt="snapshot" loading="lazy" src="/api/snapshots/${esc(e.snapshot_sha256)}">` : "";
  return `<li data-event-id="${esc(e.event_id)}">${img}<span>${describe(e)}<br><span class="muted">${esc(e.camera_id)} · ${esc(localTime(e.captured_at))}</span></span></li>`;
}

async function loadGate() {
  const site = encodeURIComponent($("#gate-site").value.trim());
  const cam = $("#gate-camera").value.trim();
  const base = `/api/events?site=${site}${cam ? `&camera=${encodeURIComponent(cam)}` : ""}&limit=30`;
  const [hits, known, crossings] = await Promise.all([
    api(`${base}&kind=watchlist_hit`), api(`${base}&kind=face_match`), api(`${base}&kind=gate_crossing`),
  ]);
  $("#gate-hits").innerHTML = hits.events.map(item).join("") || `<li class="muted">none</li>`;
  $("#gate-known").innerHTML = known.events.map(item).join("") || `<li class="muted">none</li>`;
  $("#gate-entries").innerHTML = crossings.events.filter((e) => e.payload.direction === "in").map(item).join("") || `<li class="muted">none</li>`;
}

$("#gate-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadGate().catch(showError); });

// --- people --------------------------------------------------------------------------------

async function loadPeople() {
  const r = await api("/api/people");
  $("#people tbody").innerHTML = r.people.map((p) => `<tr data-person-id="${esc(p.person_id)}"><td>${esc(p.person_id)}</td><td>${esc(p.name)}</td>
    <td class="list-${esc(p.list)}">${esc(p.list)}</td><td>${esc(localTime(p.valid_until))}</td><td>${p.samples}</td>
    <td>${session.may.enrol ? `<button data-remove="${esc(p.person_id)}">Remove</button>` : ""}</td></tr>`).join("");
  document.querySelectorAll("button[data-remove]").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm(`Remove ${b.dataset.remove} from every gate?`)) return;
    try { await api(`/api/people/${encodeURIComponent(b.dataset.remove)}`, { method: "DELETE" }); await loadPeople(); } catch (e) { showError(e); }
  }));
}

function readFile(f) {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(r.result);
    r.onerror = () => fail(r.error);
    r.readAsDataURL(f);
  });
}

$("#enrol-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#enrol-result").textContent = "enrolling…";
  try {
    const photos = await Promise.all([...$("#enrol-photos").files].map(readFile));
    const until = $("#enrol-until").value;
    const r = await api("/api/people", {
      method: "POST",
      body: {
        person_id: $("#enrol-id").value.trim(), name: $("#enrol-name").value.trim(), list: $("#enrol-list").value,
        valid_until: until ? new Date(until).toISOString() : undefined, photos_b64: photos,
      },
    });
    $("#enrol-result").textContent = `enrolled ${r.person.name}: ${r.samples} photo(s), sent to ${r.pushed_to_edges.length} edge(s)`;
    await loadPeople();
  } catch (e) {
    $("#enrol-result").textContent = e.message;
  }
});

// --- search --------------------------------------------------------------------------------

$("#plate-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await api(`/api/search/plate?q=${encodeURIComponent($("#plate-q").value)}`);
    $("#plate-results").innerHTML = r.plates.map((p) => `<li>${esc(p.plate)} <span class="muted">${p.events} event(s), last ${esc(localTime(p.last_seen))}, distance ${p.distance}</span></li>`).join("") || `<li class="muted">no plate like that</li>`;
  } catch (e) { showError(e); }
});

$("#face-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const f = $("#face-photo").files[0];
    const r = await api("/api/search/face", { method: "POST", body: { photo_b64: await readFile(f) } });
    $("#face-results").innerHTML = r.candidates.map((c) => `<li>${esc(c.person.name)} (${esc(c.person.list)}) <span class="muted">distance ${c.distance.toFixed(3)}${c.is_match ? " — match" : ""}, ${c.recent_events.length} recent event(s)</span></li>`).join("") || `<li class="muted">nobody enrolled</li>`;
  } catch (e) { showError(e); }
});

// --- audit ---------------------------------------------------------------------------------

async function loadAudit() {
  const r = await api("/api/audit?limit=300");
  $("#audit tbody").innerHTML = r.entries.map((a) => `<tr><td>${esc(localTime(a.at))}</td><td>${esc(a.username)}</td><td>${esc(a.action)}</td><td>${esc(a.subject)}</td><td>${esc(a.detail)}</td></tr>`).join("");
}

start();
