// The shadowfleet dashboard: plain DOM, no build step. Every string from the server is put on the page as text
// (textContent / text nodes, never innerHTML): AIS names, destinations and list entries are attacker-controlled.
// The view lives in the URL hash, so a copied link restores it.

const API = "/api/v1";
const L = window.L;
const $ = (id) => document.getElementById(id);

// ---- DOM helpers -------------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(columns, rows, onRow) {
  const head = el("tr", {}, columns.map(([label]) => el("th", {}, label)));
  const body = rows.map((r) => {
    const tr = el("tr", onRow ? { class: "clickable", tabindex: 0 } : {},
      columns.map(([, get]) => el("td", {}, get(r) ?? "")));
    if (onRow) {
      tr.addEventListener("click", () => onRow(r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onRow(r); });
    }
    return tr;
  });
  return el("table", {}, el("thead", {}, head), el("tbody", {}, body));
}

// any ISO 8601 text from the API ("…Z", "…+00:00", with or without fractions) as "YYYY-MM-DD HH:MMZ"
function fmtTime(s) {
  if (!s) return "";
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 16).replace("T", " ") + "Z" : String(s);
}
// replaceChildren without the null/undefined placeholders of optional parts
const show = (box, ...nodes) => box.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
const fmtNum = (x, d = 0) => (x === null || x === undefined ? "" : Number(x).toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d }));
const status = (msg) => { $("status").textContent = msg || ""; };

// ---- API ---------------------------------------------------------------------------------------------------

function token() { return sessionStorage.getItem("shadowfleet-token"); }

async function api(path, params = {}, options = {}) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  const res = await fetch(url, Object.assign({}, options, { headers }));
  if (res.status === 401) { $("token-bar").hidden = false; throw new Error("an access token is needed"); }
  if (!res.ok) {
    let msg = res.statusText;
    try { const j = await res.json(); msg = j.error || (typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail)); } catch (e) { /* not JSON */ }
    const err = new Error(msg); err.status = res.status; throw err;
  }
  return options.raw ? res : res.json();
}

async function download(path, params, filename) {
  try {
    const res = await api(path, params, { raw: true });
    const blob = await res.blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  } catch (e) { status("export failed: " + e.message); }
}

function exportButtons(path, params, base, formats = ["csv", "geojson"]) {
  return el("span", { class: "exports" }, "Export: ", formats.map((f) =>
    el("button", { type: "button", class: "link", "data-export": f,
      onclick: () => download(path, Object.assign({}, params, { format: f }), `${base}.${f === "mfjson" ? "mf.json" : f}`) }, f.toUpperCase())));
}

// ---- URL state ---------------------------------------------------------------------------------------------

function parseHash() {
  const h = location.hash.replace(/^#/, "") || "/events";
  const [path, query] = h.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || "events", id: parts[1], params: Object.fromEntries(new URLSearchParams(query || "")) };
}

function setHash(view, id, params, replace = true) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const h = "#/" + view + (id ? "/" + encodeURIComponent(id) : "") + (q.toString() ? "?" + q : "");
  if (replace) history.replaceState(null, "", h); else location.hash = h;
  current = parseHash();
}

let current = parseHash();

function mapParam() {
  const c = map.getCenter();
  return `${c.lat.toFixed(4)},${c.lng.toFixed(4)},${map.getZoom()}`;
}

function keepMapInUrl() {
  const p = Object.assign({}, current.params, { map: mapParam() });
  setHash(current.view, current.id, p);
}

// ---- map ---------------------------------------------------------------------------------------------------

const map = L.map("map", { worldCopyJump: true, preferCanvas: false, attributionControl: true, zoomSnap: 0.5 });
map.attributionControl.setPrefix(false);
map.attributionControl.addAttribution("Land: Natural Earth");
map.setView([40, 133], 5);
const layers = {
  land: L.layerGroup().addTo(map), places: L.layerGroup().addTo(map), nearby: L.layerGroup().addTo(map),
  track: L.layerGroup().addTo(map), events: L.layerGroup().addTo(map), detections: L.layerGroup().addTo(map),
  area: L.layerGroup().addTo(map), cursor: L.layerGroup().addTo(map),
};
const TYPE_COLOURS = {
  port_call: "#1f77b4", ais_gap: "#7f7f7f", encounter: "#d62728", loitering: "#ff7f0e",
  draught_change: "#2ca02c", identity_change: "#9467bd", spoofing: "#e377c2",
};
const SEGMENT_COLOURS = ["#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#7f6000"];
map.on("moveend", () => { if (!restoring) keepMapInUrl(); });
let restoring = false;

function legend() {
  const box = $("legend");
  box.replaceChildren(...Object.entries(TYPE_COLOURS).map(([t, c]) => {
    const sw = el("span", { class: "swatch" }); sw.style.background = c;
    return el("div", {}, sw, " " + t.replace("_", " "));
  }), el("div", {}, el("span", { class: "swatch dashed" }), " AIS silence"));
}

async function loadBasemap() {
  const [land, places] = await Promise.all([api("/basemap/land"), api("/places")]);
  L.geoJSON(land, { style: { color: "#b9b2a3", weight: 0.6, fillColor: "#efe9dc", fillOpacity: 1 }, interactive: false }).addTo(layers.land);
  L.geoJSON(places, {
    style: (f) => ({ color: f.properties.kind === "eez" ? "#6a8caf" : "#555", weight: 1, dashArray: f.properties.kind === "eez" ? "4 4" : null, fill: f.properties.kind !== "eez", fillOpacity: 0.08 }),
    onEachFeature: (f, layer) => layer.bindTooltip(el("span", {}, `${f.properties.id} — ${f.properties.name || ""} (${f.properties.kind})`), { sticky: true }),
  }).addTo(layers.places);
  placesList = places.features.map((f) => f.properties.id).sort();
  $("map").dataset.ready = "1";
}
let placesList = [];

function eventMarker(ev, onClick) {
  if (ev.lat === null || ev.lon === null) return null;
  const m = L.circleMarker([ev.lat, ev.lon], { radius: 6, color: "#222", weight: 1, fillColor: TYPE_COLOURS[ev.type] || "#000", fillOpacity: 0.9 });
  m.bindTooltip(el("span", {}, `${ev.type.replace("_", " ")} · ${ev.name || ev.mmsi} · ${fmtTime(ev.start)}`));
  if (onClick) m.on("click", () => onClick(ev));
  m.feature = ev;
  return m;
}

// The track layer: solid lines per segment (distinct colours), dashed across silences, a cursor for the time bar.
let trackTimes = null;

function drawTrack(fc, fit = true) {
  layers.track.clearLayers();
  layers.cursor.clearLayers();
  let seg = 0;
  const segIndex = {};
  for (const f of fc.features) {
    if (f.properties.kind === "track") {
      const key = f.properties.segment ?? "none";
      if (!(key in segIndex)) segIndex[key] = seg++;
      const line = L.geoJSON(f, { className: "track-line", style: { color: SEGMENT_COLOURS[segIndex[key] % SEGMENT_COLOURS.length], weight: 3, opacity: 0.9 } });
      line.bindTooltip(el("span", {}, `segment ${key} · ${fmtTime(f.properties.start)} – ${fmtTime(f.properties.end)} · ${f.properties.n_positions} positions`), { sticky: true });
      line.addTo(layers.track);
    } else if (f.properties.kind === "gap") {
      L.geoJSON(f, { className: "gap-line", style: { color: "#444", weight: 2, dashArray: "6 6", opacity: 0.8 } })
        .bindTooltip(el("span", {}, `AIS silent ${f.properties.hours} h`), { sticky: true }).addTo(layers.track);
    } else if (f.properties.kind === "positions") {
      trackTimes = { times: f.properties.times.map((t) => Date.parse(t)), coords: f.geometry.coordinates };
    }
  }
  const n = fc.features.filter((f) => f.properties.kind === "track").length;
  $("map").dataset.trackLines = String(n);
  if (fit && layers.track.getLayers().length) {
    const b = L.featureGroup(layers.track.getLayers()).getBounds();
    if (b.isValid()) map.fitBounds(b.pad(0.2), { maxZoom: 10, animate: false });
  }
  setupTimebar();
}

function drawNearby(fc) {
  layers.nearby.clearLayers();
  L.geoJSON(fc, {
    style: { color: "#8a8a8a", weight: 1.5, opacity: 0.8 },
    onEachFeature: (f, l) => l.bindTooltip(el("span", {}, `nearby: ${f.properties.name || f.properties.mmsi}`), { sticky: true })
      .on("click", () => go("vessel", String(f.properties.mmsi), {})),
  }).addTo(layers.nearby);
}

// Ships detected in satellite scenes, when the store holds any: hollow squares, apart from AIS events.
async function drawDetections() {
  layers.detections.clearLayers();
  const det = await api("/detections", { limit: 1000 });
  det.entries.map(detectionMarker).filter(Boolean).forEach((m) => m.addTo(layers.detections));
}

function detectionMarker(d) {
  if (typeof d.lat !== "number" || typeof d.lon !== "number") return null;
  return L.circleMarker([d.lat, d.lon], { radius: 5, color: "#000", weight: 2, fill: false, className: "detection" })
    .bindTooltip(el("span", {}, `satellite detection · ${d.sensor || ""}${d.scene_id ? " · scene " + d.scene_id : ""} · ${fmtTime(d.acquired)}`));
}

// ---- time bar and playback ---------------------------------------------------------------------------------

let playing = null;

// The time bar spans the loaded track, or without one the events on the map; moving it places the cursor on the
// track and fades the events that have not started yet.
function timeSpan() {
  if (trackTimes && trackTimes.times.length) return [trackTimes.times[0], trackTimes.times[trackTimes.times.length - 1]];
  const starts = layers.events.getLayers().map((m) => m.feature && Date.parse(m.feature.start)).filter(Number.isFinite);
  return starts.length ? [Math.min(...starts), Math.max(...starts)] : null;
}

function setupTimebar() {
  const span = timeSpan();
  if (!span) { $("time-label").textContent = ""; return; }
  const [t0, t1] = span;
  const wanted = current.params.t ? Date.parse(current.params.t) : NaN;
  $("time").value = Number.isFinite(wanted) && t1 > t0 ? Math.round(((wanted - t0) / (t1 - t0)) * 1000) : 1000;
  moveCursor(false);
}

function moveCursor(store = true) {
  const span = timeSpan();
  if (!span) return;
  const [t0, t1] = span;
  const t = t0 + (t1 - t0) * (Number($("time").value) / 1000);
  layers.cursor.clearLayers();
  if (trackTimes && trackTimes.times.length) {
    const { times, coords } = trackTimes;
    let i = times.findIndex((x) => x > t); i = i === -1 ? times.length - 1 : Math.max(0, i - 1);
    L.circleMarker([coords[i][1], coords[i][0]], { radius: 7, color: "#000", weight: 2, fillColor: "#ffd400", fillOpacity: 1 }).addTo(layers.cursor);
  }
  const iso = new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
  $("time-label").textContent = fmtTime(iso);
  for (const m of layers.events.getLayers()) {
    const ev = m.feature; if (!ev) continue;
    m.setStyle({ fillOpacity: Date.parse(ev.start) <= t ? 0.9 : 0.15 });
  }
  if (store) setHash(current.view, current.id, Object.assign({}, current.params, { t: iso }));
}

$("time").addEventListener("input", () => moveCursor());
$("play").addEventListener("click", () => {
  if (playing) { clearInterval(playing); playing = null; $("play").textContent = "▶"; return; }
  if (Number($("time").value) >= 1000) $("time").value = 0;
  $("play").textContent = "❚❚";
  playing = setInterval(() => {
    const v = Number($("time").value) + 5;
    $("time").value = Math.min(v, 1000); moveCursor();
    if (v >= 1000) { clearInterval(playing); playing = null; $("play").textContent = "▶"; }
  }, 100);
});

// ---- views -------------------------------------------------------------------------------------------------

const panel = $("panel");
const EVENT_TYPES = Object.keys(TYPE_COLOURS);
const FILTERS = ["types", "places", "flags", "listed", "inferred", "start-date", "end-date", "bbox", "vessels", "sort"];

function go(view, id, params) {
  const p = Object.assign({}, params);
  p.map = mapParam();
  setHash(view, id, p, false);
}

async function render() {
  current = parseHash();
  document.querySelectorAll("nav a[data-view]").forEach((a) => a.classList.toggle("active", a.dataset.view === current.view));
  if (current.params.map) {
    const [lat, lon, z] = current.params.map.split(",").map(Number);
    if ([lat, lon, z].every(Number.isFinite)) { restoring = true; map.setView([lat, lon], z, { animate: false }); restoring = false; }
  }
  status("");
  try {
    if (current.view === "vessel") await vesselView(current.id);
    else if (current.view === "case") await caseView(current.id);
    else if (current.view === "cases") await casesView();
    else if (current.view === "ledger") await ledgerView();
    else await eventsView();
  } catch (e) {
    show(panel, el("p", { class: "error" }, "error: " + e.message));
  }
}

// Events: filters, sorted paged list, markers; clicking one centres the map on it with the tracks around it.
async function eventsView() {
  const p = current.params;
  const filters = Object.fromEntries(FILTERS.map((k) => [k, p[k]]));
  const limit = 50, offset = Number(p.offset || 0);
  const form = el("form", { id: "filters", class: "filters" });
  const types = new Set((p.types || "").split(",").filter(Boolean));
  form.append(el("fieldset", {}, el("legend", {}, "Type"), EVENT_TYPES.map((t) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "types", value: t, checked: types.has(t) }), t.replace("_", " ")))));
  const sel = (name, options, value) => el("select", { name }, options.map(([v, label]) => el("option", { value: v, selected: v === (value || "") }, label)));
  form.append(
    el("label", {}, "Place ", el("input", { name: "places", value: p.places || "", list: "place-ids", placeholder: "e.g. RUVYP-OIL", size: 12 })),
    el("datalist", { id: "place-ids" }, placesList.map((id) => el("option", { value: id }))),
    el("label", {}, "Flag ", el("input", { name: "flags", value: p.flags || "", placeholder: "KP", size: 4 })),
    el("label", {}, "Vessel ", el("input", { name: "vessels", value: p.vessels || "", placeholder: "MMSI", size: 10 })),
    el("label", {}, "Listed ", sel("listed", [["", "any"], ["true", "listed"], ["false", "not listed"]], p.listed)),
    el("label", {}, "Inferred ", sel("inferred", [["", "any"], ["true", "inferred"], ["false", "seen"]], p.inferred)),
    el("label", {}, "From ", el("input", { type: "date", name: "start-date", value: (p["start-date"] || "").slice(0, 10) })),
    el("label", {}, "to ", el("input", { type: "date", name: "end-date", value: (p["end-date"] || "").slice(0, 10) })),
    el("label", {}, "Sort ", sel("sort", [["start", "start ↑"], ["-start", "start ↓"], ["-duration", "longest"], ["type", "type"], ["mmsi", "MMSI"]], p.sort || "start")),
    el("input", { type: "hidden", name: "bbox", value: p.bbox || "" }),
    el("button", { type: "button", id: "draw-area", onclick: drawArea }, p.bbox ? "Area ✓ (redraw)" : "Draw area"),
    ...(p.bbox ? [el("button", { type: "button", onclick: () => { form.bbox.value = ""; submit(); } }, "Clear area")] : []),
    el("button", { type: "submit", id: "apply" }, "Apply"),
  );
  function submit(e) {
    if (e) e.preventDefault();
    const fd = new FormData(form);
    const next = {};
    next.types = fd.getAll("types").join(",");
    for (const k of ["places", "flags", "vessels", "listed", "inferred", "start-date", "end-date", "bbox"]) next[k] = (fd.get(k) || "").trim();
    next.sort = fd.get("sort") === "start" ? "" : fd.get("sort");
    go("events", null, next);
  }
  form.addEventListener("submit", submit);
  function drawArea() {
    status("click two opposite corners of the area on the map");
    const corners = [];
    const onClick = (e) => {
      corners.push(e.latlng);
      if (corners.length === 2) {
        map.off("click", onClick);
        const [a, b] = corners;
        form.bbox.value = [Math.min(a.lng, b.lng), Math.min(a.lat, b.lat), Math.max(a.lng, b.lng), Math.max(a.lat, b.lat)].map((x) => x.toFixed(4)).join(",");
        submit();
      }
    };
    map.on("click", onClick);
  }

  layers.events.clearLayers(); layers.area.clearLayers(); layers.track.clearLayers(); layers.nearby.clearLayers();
  trackTimes = null;
  if (p.bbox) {
    const [w, s, e, n] = p.bbox.split(",").map(Number);
    L.rectangle([[s, w], [n, e]], { color: "#d62728", weight: 1, fill: false, dashArray: "3 3" }).addTo(layers.area);
  }
  const pageData = await api("/events", Object.assign({}, filters, { limit, offset }));
  const select = (ev) => selectEvent(ev);
  const markers = pageData.entries.map((ev) => eventMarker(ev, select)).filter(Boolean);
  markers.forEach((m) => m.addTo(layers.events));
  const rows = table([
    ["start", (e) => fmtTime(e.start)], ["type", (e) => e.type.replace("_", " ") + (e.inferred ? " (inferred)" : "")],
    ["vessel", (e) => e.name || ""], ["MMSI", (e) => e.mmsi], ["flag", (e) => e.flag || ""],
    ["listed", (e) => (e.listed ? "yes" : "")], ["hours", (e) => fmtNum(e.duration_h, 1)], ["place", (e) => e.place || (e.details && e.details.place) || ""],
  ], pageData.entries, select);
  rows.id = "event-list";
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", disabled: offset === 0, onclick: () => go("events", null, Object.assign({}, current.params, { offset: Math.max(0, offset - limit) })) }, "← previous"),
    ` ${pageData.total ? offset + 1 : 0}–${offset + pageData.entries.length} of ${pageData.total} `,
    el("button", { type: "button", disabled: pageData.nextOffset === null, id: "next-page", onclick: () => go("events", null, Object.assign({}, current.params, { offset: pageData.nextOffset })) }, "next →"));
  show(panel, el("h1", {}, "Events"), form, el("div", { class: "toolbar" }, el("span", { id: "event-total" }, `${pageData.total} events`), exportButtons("/events", filters, "events")), rows, pager, el("div", { id: "event-detail" }));
  drawDetections().catch(() => {});
  setupTimebar();
  if (!p.map && markers.length && !p.event) {
    const b = L.featureGroup(markers).getBounds(); if (b.isValid()) map.fitBounds(b.pad(0.1), { maxZoom: 9, animate: false });
  }
  if (p.event) {
    const ev = pageData.entries.find((e) => e.event_id === p.event) || await api("/events/" + encodeURIComponent(p.event)).catch(() => null);
    if (ev) await selectEvent(ev, false);
  }
}

async function selectEvent(ev, store = true) {
  if (store) setHash("events", null, Object.assign({}, current.params, { event: ev.event_id, t: undefined }));
  if (ev.lat !== null) map.setView([ev.lat, ev.lon], Math.max(map.getZoom(), 8), { animate: false });
  const box = $("event-detail");
  const around = 24 * 3600 * 1000;
  const from = new Date(Date.parse(ev.start) - around).toISOString();
  const to = new Date(Date.parse(ev.end || ev.start) + around).toISOString();
  if (box) {
    box.replaceChildren(el("h2", {}, `${ev.type.replace("_", " ")} — ${ev.name || ev.mmsi}`),
      el("p", {}, `${fmtTime(ev.start)} – ${fmtTime(ev.end)} · ${ev.place || ""} ${ev.inferred ? "· inferred across an AIS gap" : ""}`),
      el("pre", { class: "details" }, JSON.stringify(ev.details, null, 1)),
      el("p", {}, el("a", { href: `#/vessel/${ev.mmsi}?start-date=${encodeURIComponent(from)}&end-date=${encodeURIComponent(to)}`, id: "open-vessel" }, `Open vessel ${ev.mmsi}`),
        ev.other_mmsi ? el("span", {}, " · ", el("a", { href: `#/vessel/${ev.other_mmsi}` }, `other vessel ${ev.other_mmsi}`)) : null));
  }
  const [track, nearby] = await Promise.all([
    api(`/vessels/${ev.mmsi}/track`, { "start-date": from, "end-date": to }).catch(() => ({ features: [] })),
    ev.lat !== null ? api("/tracks/nearby", { lat: ev.lat, lon: ev.lon, time: ev.start, exclude: ev.mmsi }).catch(() => ({ features: [] })) : { features: [] },
  ]);
  drawTrack(track, false);
  drawNearby(nearby);
}

// Vessel profile: identities, draughts, sanctions hits with the list version, events, cases; its track on the map.
async function vesselView(mmsi) {
  const p = current.params;
  const v = await api("/vessels/" + encodeURIComponent(mmsi));
  const range = { "start-date": p["start-date"], "end-date": p["end-date"] };
  layers.events.clearLayers(); layers.nearby.clearLayers(); layers.area.clearLayers();
  const latest = v.identities.length ? v.identities[v.identities.length - 1] : {};
  show(panel,
    el("h1", { id: "vessel-name" }, v.name || `MMSI ${v.mmsi}`),
    el("p", { class: "facts" }, `MMSI ${v.mmsi} · flag ${v.flag || "?"} (${v.country || "unknown MID"}) · IMO ${latest.imo ?? "?"} · call sign ${latest.callsign || "?"} · ${fmtNum(v.n_positions)} positions, first ${fmtTime(v.first_seen)}, last ${fmtTime(v.last_seen)}`),
    v.listed ? el("p", { class: "listed" }, "On a sanctions list") : null,
    el("div", { class: "toolbar" }, "Track: ", exportButtons(`/vessels/${v.mmsi}/track`, range, `track-${v.mmsi}`, ["csv", "geojson", "mfjson"])),
    el("h2", {}, "Identity history"),
    table([["from", (r) => fmtTime(r.first_seen)], ["to", (r) => fmtTime(r.last_seen)], ["name", (r) => r.name], ["IMO", (r) => r.imo],
      ["call sign", (r) => r.callsign], ["type", (r) => r.ship_category || r.ship_type], ["length", (r) => r.length]], v.identities),
    el("h2", {}, "Destinations broadcast"), el("p", { id: "destinations" }, v.destinations.join(" · ") || "none"),
    el("h2", {}, "Draught history"),
    table([["since", (r) => fmtTime(r.since)], ["until", (r) => fmtTime(r.until)], ["draught m", (r) => fmtNum(r.draught, 1)], ["change m", (r) => (r.change_m === null ? "" : fmtNum(r.change_m, 1))]], v.draughts),
    el("h2", {}, "Sanctions list hits"),
    v.sanctions.length ? table([["list", (r) => r.list_id], ["version", (r) => r.version_date], ["entry", (r) => r.entry_name], ["on", (r) => r.match_on],
      ["score", (r) => r.score], ["why", (r) => r.explanation]], v.sanctions) : el("p", {}, "none"),
    el("h2", {}, `Events (${v.events.length}) `, exportButtons("/events", { vessels: String(v.mmsi) }, `events-${v.mmsi}`)),
    table([["start", (e) => fmtTime(e.start)], ["type", (e) => e.type.replace("_", " ")], ["hours", (e) => fmtNum(e.duration_h, 1)], ["place", (e) => e.place || ""]],
      v.events, (e) => go("events", null, { vessels: String(v.mmsi), event: e.event_id })),
    el("h2", {}, `Cases (${v.cases.length})`),
    table([["discharge", (c) => fmtTime(c.discharge_start)], ["at", (c) => c.discharge_place || c.discharge_kind], ["barrels", (c) => fmtNum(c.barrels_central)]],
      v.cases, (c) => go("case", c.case_id, {})),
  );
  v.events.map((ev) => eventMarker(ev, (e) => go("events", null, { vessels: String(v.mmsi), event: e.event_id }))).filter(Boolean).forEach((m) => m.addTo(layers.events));
  const track = await api(`/vessels/${v.mmsi}/track`, range);
  drawTrack(track, !p.map);
}

async function casesView() {
  const p = current.params;
  const data = await api("/cases", { sort: p.sort, limit: 200 });
  layers.events.clearLayers(); layers.track.clearLayers(); layers.nearby.clearLayers(); layers.cursor.clearLayers();
  trackTimes = null; setupTimebar();
  show(panel, el("h1", {}, "Cases"),
    el("div", { class: "toolbar" }, `${data.total} cases`, exportButtons("/cases", { sort: p.sort }, "cases")),
    table([["discharge", (c) => fmtTime(c.discharge_start)], ["vessel", (c) => c.name || c.mmsi], ["flag", (c) => c.flag],
      ["load", (c) => c.load_place || c.load_reachable || ""], ["discharge at", (c) => c.discharge_place || c.discharge_kind],
      ["barrels (low–high)", (c) => `${fmtNum(c.barrels_central)} (${fmtNum(c.barrels_low)}–${fmtNum(c.barrels_high)})`], ["confidence", (c) => fmtNum(c.confidence, 2)]],
    data.entries, (c) => go("case", c.case_id, {})));
}

// A case: the chain load → transit → discharge, its timeline, barrels with reasons, notes (append-only).
async function caseView(id) {
  const c = await api("/cases/" + encodeURIComponent(id));
  layers.events.clearLayers(); layers.nearby.clearLayers();
  const chain = el("ol", { class: "chain" },
    el("li", {}, el("strong", {}, "Load "), `${c.load_place || c.load_site || c.load_reachable || "unknown"} · ${fmtTime(c.load_start)} – ${fmtTime(c.load_end)}${c.load_inferred ? " (inferred: AIS off)" : ""}`),
    el("li", {}, el("strong", {}, "Transit "), `${fmtTime(c.load_end)} – ${fmtTime(c.discharge_start)}`),
    el("li", {}, el("strong", {}, "Discharge "), `${c.discharge_kind} ${c.discharge_place || ""}${c.discharge_other_mmsi ? " to " + c.discharge_other_mmsi : ""} · ${fmtTime(c.discharge_start)} – ${fmtTime(c.discharge_end)}`));
  const notesList = el("ul", { id: "notes" }, c.notes.map(noteItem));
  const form = el("form", { id: "note-form" },
    el("label", {}, "Author ", el("input", { name: "author", maxlength: 80, required: true, value: localStorage.getItem("shadowfleet-author") || "" })),
    el("label", {}, "Note ", el("textarea", { name: "text", maxlength: 4000, rows: 3, required: true })),
    el("button", { type: "submit" }, "Add note"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = JSON.stringify({ author: form.author.value, text: form.text.value });
    try {
      const note = await api(`/cases/${encodeURIComponent(c.case_id)}/notes`, {}, { method: "POST", body, headers: { "Content-Type": "application/json" } });
      localStorage.setItem("shadowfleet-author", form.author.value);
      notesList.append(noteItem(note)); form.text.value = ""; status("note saved");
    } catch (err) { status("note not saved: " + err.message); }
  });
  show(panel,
    el("h1", {}, `Case: ${c.name || c.mmsi}`),
    el("p", { class: "facts" }, el("a", { href: `#/vessel/${c.mmsi}` }, `MMSI ${c.mmsi}`), ` · flag ${c.flag || "?"} · confidence ${fmtNum(c.confidence, 2)} · ${c.product || ""}`),
    el("h2", {}, "Evidence chain"), chain,
    el("h2", {}, "Timeline"), timeline(c),
    el("h2", {}, "Barrels"),
    el("p", { id: "barrels" }, `low ${fmtNum(c.barrels_low)} · central ${fmtNum(c.barrels_central)} · high ${fmtNum(c.barrels_high)} (tonnes ${fmtNum(c.tonnes_low)}–${fmtNum(c.tonnes_high)}, ${c.tonnes_method || ""})`),
    el("ul", { class: "reasons" }, (c.reasons || []).map((r) => el("li", {}, r))),
    el("h2", {}, "Evidence events"),
    table([["start", (e) => fmtTime(e.start)], ["type", (e) => e.type.replace("_", " ")], ["place", (e) => e.place || ""], ["hours", (e) => fmtNum(e.duration_h, 1)]],
      c.evidence_events, (e) => go("events", null, { vessels: String(c.mmsi), event: e.event_id })),
    el("h2", {}, "Satellite imagery corroborating the case"),
    c.imagery.length ? el("div", { class: "chips" }, c.imagery.map(chipFigure)) : el("p", {}, "none"),
    el("h2", {}, "Satellite detections near the evidence"),
    c.detections.length ? table([["acquired", (d) => fmtTime(d.acquired)], ["sensor", (d) => d.sensor], ["scene", (d) => d.scene_id],
      ["length m", (d) => fmtNum(d.length_m)], ["place", (d) => d.place || ""]], c.detections) : el("p", {}, "none in this store"),
    el("h2", {}, "Notes"), notesList, form);
  c.evidence_events.map((ev) => eventMarker(ev)).filter(Boolean).forEach((m) => m.addTo(layers.events));
  layers.detections.clearLayers();
  c.detections.map(detectionMarker).filter(Boolean).forEach((m) => m.addTo(layers.detections));
  const pad = 12 * 3600 * 1000;
  const from = new Date(Date.parse(c.load_start || c.discharge_start) - pad).toISOString();
  const to = new Date(Date.parse(c.discharge_end || c.discharge_start) + pad).toISOString();
  drawTrack(await api(`/vessels/${c.mmsi}/track`, { "start-date": from, "end-date": to }), !current.params.map);
}

// An image chip: fetched with the token like every API call, shown as a data: URL (the CSP allows no blob:).
function chipFigure(x) {
  const img = el("img", { class: "chip", width: 256, height: 256, alt: "satellite image chip: " + x.caption });
  const fig = el("figure", { class: "chip" }, img, el("figcaption", {}, x.caption));
  api(x.chip, {}, { raw: true }).then((res) => res.blob()).then((blob) => new Promise((ok, fail) => {
    const r = new FileReader(); r.onload = () => ok(r.result); r.onerror = fail; r.readAsDataURL(blob);
  })).then((url) => { img.src = url; }).catch((err) => { img.replaceWith(el("p", { class: "chip-note" }, err.message)); });
  return fig;
}

function noteItem(n) {
  return el("li", { class: "note" }, el("span", { class: "meta" }, `${fmtTime(n.ts)} · ${n.author}`), el("div", { class: "text" }, n.text));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function timeline(c) {
  const evs = c.evidence_events;
  const times = evs.flatMap((e) => [Date.parse(e.start), Date.parse(e.end || e.start)]).concat([c.load_start, c.discharge_end].filter(Boolean).map(Date.parse));
  const W = 440, rowH = 18, H = 24 + rowH * Math.max(evs.length, 1);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img" });
  if (!times.length) return s;
  const t0 = Math.min(...times), t1 = Math.max(...times) || t0 + 1;
  const x = (t) => 10 + ((t - t0) / Math.max(t1 - t0, 1)) * (W - 20);
  evs.forEach((e, i) => {
    const a = x(Date.parse(e.start)), b = x(Date.parse(e.end || e.start));
    s.append(svg("rect", { x: a, y: 4 + i * rowH, width: Math.max(b - a, 3), height: rowH - 6, fill: TYPE_COLOURS[e.type] || "#333" }));
    s.append(svg("text", { x: Math.min(a + 4, W - 120), y: 4 + i * rowH + 10, "font-size": 10 }, `${e.type.replace("_", " ")} ${e.place || ""}`));
  });
  s.append(svg("text", { x: 10, y: H - 4, "font-size": 10 }, fmtTime(new Date(t0).toISOString().replace(/\.\d+Z$/, "Z"))));
  s.append(svg("text", { x: W - 10, y: H - 4, "font-size": 10, "text-anchor": "end" }, fmtTime(new Date(t1).toISOString().replace(/\.\d+Z$/, "Z"))));
  return s;
}

// Ledger: monthly estimates (central bars, low–high whiskers), reported deliveries, the cumulative line vs the cap.
async function ledgerView() {
  const p = current.params;
  const led = await api("/ledger", { year: p.year, country: p.country });
  layers.events.clearLayers(); layers.track.clearLayers(); layers.nearby.clearLayers(); layers.cursor.clearLayers();
  trackTimes = null; setupTimebar();
  const months = led.months;
  const W = 460, H = 240, padL = 56, padB = 22;
  const maxY = Math.max(led.cap * 1.1, ...months.map((m) => Math.max(m.cum_high || 0, m.cum_reported || 0)));
  const y = (v) => H - padB - (v / maxY) * (H - padB - 10);
  const bw = (W - padL - 10) / 12;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, id: "ledger-chart", role: "img" });
  chart.append(svg("title", {}, `Estimated barrels delivered to ${led.country} in ${led.year} against the ${led.cap.toLocaleString("en")}-barrel cap`));
  for (const v of [0, led.cap / 2, led.cap]) {
    chart.append(svg("line", { x1: padL, x2: W - 10, y1: y(v), y2: y(v), stroke: v === led.cap ? "#c00" : "#ddd", "stroke-dasharray": v === led.cap ? "5 3" : "" }));
    chart.append(svg("text", { x: padL - 4, y: y(v) + 3, "font-size": 9, "text-anchor": "end" }, Math.round(v).toLocaleString("en")));
  }
  chart.append(svg("text", { x: W - 12, y: y(led.cap) - 4, "font-size": 9, "text-anchor": "end", fill: "#c00" }, "UN cap (UNSCR 2397 OP5)"));
  let cum = "", rep = "";
  months.forEach((m, i) => {
    const cx = padL + i * bw + bw / 2;
    chart.append(svg("rect", { x: cx - bw * 0.3, y: y(m.est_central), width: bw * 0.3, height: Math.max(0, y(0) - y(m.est_central)), fill: "#1f77b4" }));
    chart.append(svg("line", { x1: cx - bw * 0.15, x2: cx - bw * 0.15, y1: y(m.est_low), y2: y(m.est_high), stroke: "#08306b" }));
    if (m.reported) chart.append(svg("rect", { x: cx, y: y(m.reported), width: bw * 0.3, height: Math.max(0, y(0) - y(m.reported)), fill: "#2ca02c" }));
    chart.append(svg("text", { x: cx, y: H - 8, "font-size": 9, "text-anchor": "middle" }, m.month.slice(5)));
    cum += `${i ? "L" : "M"}${cx},${y(m.cum_central)}`;
    rep += `${i ? "L" : "M"}${cx},${y(m.cum_reported)}`;
  });
  chart.append(svg("path", { d: cum, fill: "none", stroke: "#08306b", "stroke-width": 2 }));
  chart.append(svg("path", { d: rep, fill: "none", stroke: "#2ca02c", "stroke-width": 2, "stroke-dasharray": "4 2" }));
  const form = el("form", { class: "filters" }, el("label", {}, "Year ", el("input", { name: "year", type: "number", value: led.year, min: 1990, max: 2100 })),
    el("label", {}, "Country ", el("input", { name: "country", value: led.country, size: 3 })), el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => { e.preventDefault(); go("ledger", null, { year: form.year.value, country: form.country.value }); });
  show(panel, el("h1", {}, `Ledger ${led.year}: ${led.country}`), form, chart,
    el("div", { class: "toolbar" }, exportButtons("/ledger", { year: led.year, country: led.country }, `ledger-${led.year}-${led.country}`, ["csv"])),
    el("p", { class: "legend-text" }, "Bars: estimated barrels per month (blue, line = low–high), reported deliveries (green). Lines: cumulative estimate (blue) and reported (green dashed); red: the 500,000-barrel annual cap."),
    table([["month", (m) => m.month], ["cases", (m) => m.cases], ["estimate (low–high)", (m) => `${fmtNum(m.est_central)} (${fmtNum(m.est_low)}–${fmtNum(m.est_high)})`],
      ["reported", (m) => fmtNum(m.reported)], ["cumulative", (m) => fmtNum(m.cum_central)], ["% of cap", (m) => fmtNum(m.pct_cap_central, 1)]], months));
}

// ---- search, share, token ----------------------------------------------------------------------------------

let searchTimer = null;
$("search-query").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const qtext = $("search-query").value.trim();
    const box = $("search-results");
    if (!qtext) { box.hidden = true; return; }
    try {
      const res = await api("/vessels/search", { query: qtext });
      box.replaceChildren(...res.entries.map((v) => el("a", { href: `#/vessel/${v.mmsi}`, class: "result", onclick: () => { box.hidden = true; } },
        `${v.name || "?"} · ${v.mmsi} · ${v.flag || ""}${v.listed ? " · listed" : ""}`)), el("div", { class: "muted" }, `${res.total} found`));
      box.hidden = false;
    } catch (e) { box.replaceChildren(el("div", {}, e.message)); box.hidden = false; }
  }, 200);
});
$("search").addEventListener("submit", (e) => e.preventDefault());

$("share").addEventListener("click", async () => {
  keepMapInUrl();
  try { await navigator.clipboard.writeText(location.href); status("link copied: " + location.href); } catch (e) { status("link: " + location.href); }
});

$("token-save").addEventListener("click", () => {
  sessionStorage.setItem("shadowfleet-token", $("token-input").value.trim());
  $("token-bar").hidden = true;
  boot();
});

// ---- live alerts: the latest state of each, then every message `shadowfleet live` writes, as it arrives ----------
// fetch() reads the server-sent events rather than EventSource, which cannot send the bearer token.

const ALERTS_KEPT = 200;  // items in the panel; older ones drop off the end
let alertStream = null;

function alertItem(a) {
  const what = `${a.rule} · ${a.event_type || ""} · ${a.name || a.mmsi || ""}${a.flag ? " (" + a.flag + ")" : ""}`;
  const where = `${a.place || ""} · ${fmtTime(a.start)}${a.open ? " – open" : a.end ? " – " + fmtTime(a.end) : ""}`;
  const li = el("li", { class: `alert clickable sev-${a.severity} ${a.status}`, tabindex: 0, "data-alert-id": a.alert_id, title: (a.reasons || []).join("\n") },
    el("span", { class: "alert-status" }, a.status + (a.version > 1 ? ` v${a.version}` : "")), " ",
    el("span", { class: "alert-what" }, what), el("br"), el("span", { class: "alert-where" }, where));
  const open = () => {
    const ev = (a.event_ids || [])[0];
    if (ev) go("events", null, { event: ev, vessels: a.mmsi });
    else if (a.mmsi) go("vessel", a.mmsi, {});
  };
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return li;
}

function showAlert(a) {
  const list = $("alert-list");
  const item = alertItem(a);
  const known = [...list.children].find((li) => li.dataset.alertId === a.alert_id);
  if (known) known.replaceWith(item);  // a revision or retraction updates the alert where it stands
  else list.prepend(item);
  while (list.children.length > ALERTS_KEPT) list.lastElementChild.remove();
  $("alerts").hidden = false;
  $("alert-count").textContent = String(list.children.length);
}

async function followAlerts() {
  if (alertStream) alertStream.abort();
  const ctl = new AbortController();
  alertStream = ctl;
  let last = 0;
  try {
    const latest = await api("/alerts", { limit: 100 });
    for (const a of latest.entries.slice().reverse()) { showAlert(a); last = Math.max(last, a.seq); }
  } catch (e) { return; }  // no token yet, or no server: the token bar or the status line already says so
  while (!ctl.signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream", "Last-Event-ID": String(last) };
      if (token()) headers.Authorization = "Bearer " + token();
      const res = await fetch(API + "/alerts/stream", { headers, signal: ctl.signal });
      if (!res.ok) return;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf = (buf + value).replace(/\r\n/g, "\n");
        const parts = buf.split("\n\n");
        buf = parts.pop();
        for (const block of parts) {
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (!data) continue;  // a keep-alive comment
          const a = JSON.parse(data);
          last = Math.max(last, a.seq);
          showAlert(a);
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 3000));  // the server went away: reconnect, resuming after `last`
  }
}

// only navigation (links, go()) changes the hash through location; replaceState (map moves, time bar) does not
window.addEventListener("hashchange", render);

async function boot() {
  legend();
  try { await loadBasemap(); } catch (e) { status("error: " + e.message); return; }
  await render();
  followAlerts();
  document.body.dataset.ready = "1";
}
boot();
