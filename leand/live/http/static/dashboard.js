// leand's live dashboard: one server-sent-events stream read with fetch (so the token goes in the
// Authorization header, never in a URL), tables rebuilt from each snapshot with textContent only.
"use strict";

const KEY = "leand.token";
const $ = (id) => document.getElementById(id);
let token = null;
let controller = null;
let equity = {};  // "scope:owner" -> [[unix seconds, equity], ...] since the daemon started

function takeTokenFromFragment() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname);  // the token leaves the address bar at once
  }
}

function showLogin(error) {
  $("main").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = error || "";
  for (const id of ["halt", "resume", "cancel-all"]) $(id).disabled = true;
  $("daemon-state").textContent = "not connected";
  $("daemon-state").className = "pill";
}

function say(text, bad) {
  const m = $("message");
  m.textContent = text;
  m.className = bad ? "message bad" : "message";
  m.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { m.hidden = true; }, 6000);
}

const fmt = (v, digits = 2) => (v === null || v === undefined) ? "–" :
  Number(v).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const money = (v) => fmt(v, 2);

function fill(tableId, rows, cells, empty) {
  const body = $(tableId).tBodies[0];
  const out = document.createDocumentFragment();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = $(tableId).tHead.rows[0].cells.length;
    td.className = "empty";
    td.textContent = empty;
    tr.appendChild(td);
    out.appendChild(tr);
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells(row)) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    out.appendChild(tr);
  }
  body.replaceChildren(out);
}

function pill(el, text, kind) {
  el.textContent = text;
  el.className = "pill " + kind;
}

function render(s) {
  const st = s.status;
  pill($("daemon-state"), st.state + (st.ok ? "" : " (unhealthy)"), st.ok ? "good" : "warn");
  const ts = st.trading_state;
  pill($("trading-state"), "trading: " + ts, ts === "active" ? "good" : ts === "halted" ? "bad" : "warn");
  $("meta").textContent = `${st.venue} · boot ${st.boot} · pid ${st.pid} · up ${Math.round(st.uptime_s)} s`;
  $("halt").disabled = ts === "halted";
  $("resume").disabled = ts === "active";
  $("cancel-all").disabled = false;

  fill("strategies", s.strategies, (r) => [[r.id], [r.state + (r.error ? ": " + r.error : "")],
    [r.trading_state], [fmt(r.slices, 0), "num"], [fmt(r.open_orders, 0), "num"],
    [money(s.equity_now[r.id]), "num"]], "no strategies");
  fill("positions", s.positions, (p) => [[p.strategy], [p.symbol], [fmt(p.quantity, 8), "num"],
    [money(p.average_price), "num"], [money(p.price), "num"], [money(p.unrealized), "num"]], "flat");
  fill("orders", s.orders, (o) => [[o.client_order_id], [o.symbol], [o.type],
    [fmt(o.quantity, 8), o.quantity > 0 ? "num buy" : "num sell"], [fmt(o.filled, 8), "num"],
    [money(o.limit_price), "num"], [o.status]], "no open orders");
  fill("fills", s.fills, (f) => [[new Date(f.time_ns / 1e6).toLocaleTimeString()], [f.strategy || "?"],
    [f.client_order_id], [String(f.symbol).split(":").pop()], [f.quantity > 0 ? "buy" : "sell", f.quantity > 0 ? "buy" : "sell"],
    [fmt(Math.abs(f.quantity), 8), "num"], [money(f.price), "num"], [fmt(f.fee, 6) + " " + f.fee_currency, "num"],
    [f.liquidity]], "no fills yet");
  const lat = s.latency;
  const names = { tick_to_order: "tick to order", venue_round_trip: "venue round trip", loop_lag: "loop lag",
    journal_intent_log: "journal: intent log append", journal_sqlite: "journal: SQLite transaction" };
  fill("latency", Object.keys(names), (k) => [[names[k]], [fmt(lat[k].p50_ms, 3), "num"],
    [fmt(lat[k].p99_ms, 3), "num"], [fmt(lat[k].count, 0), "num"]], "");
  $("health").textContent = `feed age ${fmt(st.feed_age_s, 2)} s · loop lag ${fmt(st.loop_lag_ms, 1)} ms · ` +
    `${fmt(lat.feed_messages, 0)} market-data messages · open orders ${st.open_orders}`;
  const g = (s.risk.config && s.risk.config.global) || {};
  const states = Object.entries(s.risk.states).map(([k, v]) => `${k}: ${v}`).join(", ");
  $("limits").textContent = `risk states: ${states || "–"} · max order qty ${fmt(g.max_order_quantity)} · ` +
    `max notional ${fmt(g.max_order_notional)} · daily loss limit ` +
    (g.daily_loss_limit_pct ? `${fmt(g.daily_loss_limit_pct * 100)} %` : "–");
  updateEquity(s.equity);
}

function updateEquity(samples) {
  if (!samples) return;
  for (const p of samples) (equity[p.scope + ":" + p.owner] ||= []).push([p.t, p.equity]);
  drawEquity();
}

function drawEquity() {
  const svg = $("equity");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const W = 1000, H = 240, pad = 8;
  for (let i = 1; i < 4; i++) {
    const l = document.createElementNS(ns, "line");
    l.setAttribute("x1", 0); l.setAttribute("x2", W);
    l.setAttribute("y1", (H * i) / 4); l.setAttribute("y2", (H * i) / 4);
    l.setAttribute("class", "grid");
    svg.appendChild(l);
  }
  const keys = Object.keys(equity).sort();  // "account:…" sorts before "strategy:…": strategies draw on top
  const all = keys.flatMap((k) => equity[k]);
  if (!all.length) { $("equity-axis").textContent = "waiting for the first equity sample"; return; }
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(t0 + 1, ...all.map((p) => p[0]));
  let lo = Math.min(...all.map((p) => p[1])), hi = Math.max(...all.map((p) => p[1]));
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const x = (t) => ((t - t0) / (t1 - t0)) * W;
  const y = (v) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  for (const k of keys) {
    const pl = document.createElementNS(ns, "polyline");
    pl.setAttribute("points", equity[k].map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" "));
    pl.setAttribute("class", k.startsWith("account:") ? "account" : "strategy");
    const title = document.createElementNS(ns, "title");
    title.textContent = k;
    pl.appendChild(title);
    svg.appendChild(pl);
  }
  const main = keys.find((k) => k.startsWith("account:")) || keys[0];
  const last = equity[main][equity[main].length - 1][1];
  $("equity-now").textContent = `${main} now ${money(last)} · low ${money(lo)} · high ${money(hi)}`;
  const a = document.createElement("span"), b = document.createElement("span");
  a.textContent = new Date(t0 * 1000).toLocaleTimeString();
  b.textContent = new Date(t1 * 1000).toLocaleTimeString();
  $("equity-axis").replaceChildren(a, b);
}

async function connect() {
  token = sessionStorage.getItem(KEY);
  if (!token) { showLogin(""); return; }
  if (controller) controller.abort();
  controller = new AbortController();
  let resp;
  try {
    resp = await fetch("/api/stream", { headers: { Authorization: "Bearer " + token }, signal: controller.signal,
      cache: "no-store" });
  } catch (err) {
    if (err.name !== "AbortError") retry("daemon unreachable");
    return;
  }
  if (resp.status === 401) { sessionStorage.removeItem(KEY); showLogin("the daemon refused that token"); return; }
  if (!resp.ok || !resp.body) { retry(`stream answered ${resp.status}`); return; }
  $("login").hidden = true;
  $("main").hidden = false;
  equity = {};  // the stream starts over with every sample since the daemon started
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        for (const line of chunk.split("\n")) {
          if (line.startsWith("data: ")) render(JSON.parse(line.slice(6)));
        }
      }
    }
  } catch (err) {
    if (err.name === "AbortError") return;
  }
  retry("stream ended");
}

function retry(why) {
  pill($("daemon-state"), "reconnecting (" + why + ")", "warn");
  for (const id of ["halt", "resume", "cancel-all"]) $(id).disabled = true;
  setTimeout(connect, 2000);
}

async function act(path, body, done) {
  try {
    const resp = await fetch(path, { method: "POST", cache: "no-store",
      headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}) });
    const data = await resp.json();
    if (resp.ok) say(done(data)); else say(`refused: ${data.error || resp.status}`, true);
  } catch (err) {
    say(`request failed: ${err}`, true);
  }
}

$("halt").addEventListener("click", () => act("/api/halt", { reason: "halted from the dashboard", cancel_all: true },
  () => "halt requested: trading halts and open orders are cancelled"));
$("resume").addEventListener("click", () => act("/api/resume", {}, () => "resume requested"));
$("cancel-all").addEventListener("click", () => act("/api/orders/cancel-all", {},
  (d) => `cancel requested for ${d.cancel_requested} open orders`));
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  if (controller) controller.abort();
  showLogin("");
});
$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("token").value.trim());
  $("token").value = "";
  connect();
});

window.addEventListener("hashchange", () => {  // a new #token= link opened in this tab
  if (/token=/.test(location.hash)) { takeTokenFromFragment(); connect(); }
});
takeTokenFromFragment();
connect();
