// The hedgekeeper dashboard: each Greek plotted live against its band, distance to liquidation,
// positions, open orders, the latest decisions with reasons, costs so far, the venues' streams when
// the market is live, and the chain (oracle, every vault's check, the keeper's decisions) when the
// service runs one. Plain JavaScript and <canvas>: nothing is loaded from the internet. The token
// stays in this tab (sessionStorage) and travels only in the Authorization header (the stream is
// read with fetch, not EventSource).
"use strict";

const GREEKS = [
  ["delta_coin", "delta, coin", 1], ["gamma_usd_per_pct", "gamma, USD per 1%", 2],
  ["vega_usd_per_vol_pt", "vega, USD per vol point", 3], ["weight", "weight (USD delta / equity)", 4],
  ["liquidation_distance", "distance to liquidation (fraction of spot)", 6],
];
const HISTORY = 600;  // samples kept per underlying
const PLOTTED = 240;  // the latest samples plotted (older extremes would squash the band)
const state = { token: sessionStorage.getItem("hedgekeeper-token") || "", history: {}, underlyings: {} };

function $(selector) { return document.querySelector(selector); }
function fmt(value, digits) {
  if (value === null || value === undefined) return "–";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
function time(ns) { return ns ? new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–"; }

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...(options.headers || {}),
    "Authorization": "Bearer " + state.token, "Content-Type": "application/json" } });
  if (response.status === 401) { showLogin("the token was refused"); throw new Error("unauthorized"); }
  if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  return response.json();
}

function showLogin(message) {
  $("#main").hidden = true; $("#login").hidden = false; $("#login-error").textContent = message || "";
}

function ensureUnderlying(name) {
  if (state.underlyings[name]) return state.underlyings[name];
  const section = document.createElement("div");
  section.className = "card underlying";
  section.innerHTML = `<h2>${name} <span class="liq" data-underlying="${name}" data-field="spot"></span>
    <span class="liq" data-underlying="${name}" data-field="liquidation"></span></h2><div class="greeks"></div>`;
  const grid = section.querySelector(".greeks");
  const charts = {};
  for (const [greek, label] of GREEKS) {
    const card = document.createElement("div");
    card.className = "greek";
    card.innerHTML = `<h3>${label} <span class="band"></span></h3>
      <div class="value" data-underlying="${name}" data-greek="${greek}">–</div><canvas></canvas>`;
    grid.appendChild(card);
    charts[greek] = card;
  }
  $("#underlyings").appendChild(section);
  state.underlyings[name] = { section, charts };
  state.history[name] = state.history[name] || [];
  return state.underlyings[name];
}

function drawChart(card, points, band) {
  const canvas = card.querySelector("canvas");
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * ratio; canvas.height = height * ratio;
  const context = canvas.getContext("2d");
  context.scale(ratio, ratio);
  context.clearRect(0, 0, width, height);
  const values = points.map(p => p[1]).filter(v => v !== null);
  if (band) values.push(band.lower, band.upper, band.target);
  if (!values.length) return;
  let low = Math.min(...values), high = Math.max(...values);
  if (high === low) { high += 1; low -= 1; }
  const pad = (high - low) * 0.1; low -= pad; high += pad;
  const t0 = points.length ? points[0][0] : 0, t1 = points.length ? points[points.length - 1][0] : 1;
  const x = t => points.length < 2 ? width : (t - t0) / (t1 - t0) * (width - 4) + 2;
  const y = v => height - (v - low) / (high - low) * height;
  const style = getComputedStyle(document.documentElement);
  if (band) {
    context.fillStyle = style.getPropertyValue("--band");
    context.fillRect(0, y(band.upper), width, y(band.lower) - y(band.upper));
    context.strokeStyle = style.getPropertyValue("--target"); context.setLineDash([4, 4]);
    context.beginPath(); context.moveTo(0, y(band.target)); context.lineTo(width, y(band.target)); context.stroke();
    context.setLineDash([]);
  }
  context.strokeStyle = style.getPropertyValue("--line"); context.lineWidth = 1.5;
  context.beginPath();
  let started = false;
  for (const [t, v] of points) {
    if (v === null) continue;
    if (!started) { context.moveTo(x(t), y(v)); started = true; } else context.lineTo(x(t), y(v));
  }
  context.stroke();
}

function renderUnderlying(name, view) {
  const entry = ensureUnderlying(name);
  const history = state.history[name];
  for (const [greek, , column] of GREEKS) {
    const card = entry.charts[greek];
    const band = view.bands ? view.bands[greek] || null : null;
    const value = greek === "liquidation_distance" ? view.liquidation_distance : view.greeks ? view.greeks[greek] : null;
    const element = card.querySelector(".value");
    element.textContent = fmt(value, greek === "weight" || greek === "liquidation_distance" ? 4
      : greek === "delta_coin" ? 3 : 0);
    element.className = "value " + (value === null || value === undefined || !band ? "" :
      (value >= band.lower && value <= band.upper ? "inside" : "breach"));
    card.querySelector(".band").textContent = band ? `band [${fmt(band.lower, 3)}, ${fmt(band.upper, 3)}]` : "(no band)";
    drawChart(card, history.slice(-PLOTTED).map(h => [h[0], h[column]]), band);
  }
  const spot = entry.section.querySelector('[data-field="spot"]');
  spot.textContent = view.spot_usd ? `spot ${fmt(view.spot_usd, 1)} USD` : "";
  const liquidation = entry.section.querySelector('[data-field="liquidation"]');
  liquidation.textContent = "· distance to liquidation " +
    (view.liquidation_distance === null || view.liquidation_distance === undefined ? "none within range"
      : fmt(view.liquidation_distance * 100, 1) + "%");
}

function onGreeks(event) {
  $("#status").textContent = event.status; $("#status").className = "pill " + event.status;
  $("#engine-time").textContent = time(event.engine_ns);
  $("#engine-time").dataset.ns = event.engine_ns;
  $("#controls-state").textContent = (event.paused ? "PAUSED " : "") +
    (event.kill_switch ? "KILL SWITCH: " + event.kill_switch : "") + (event.hedging.length ? " hedging " + event.hedging.join(", ") : "");
  for (const [name, view] of Object.entries(event.underlyings)) {
    const history = state.history[name] = state.history[name] || [];
    if (view.ts_ns && (!history.length || history[history.length - 1][0] < view.ts_ns)) {
      const g = view.greeks;
      history.push([view.ts_ns, g.delta_coin, g.gamma_usd_per_pct, g.vega_usd_per_vol_pt, g.weight, view.spot_usd,
                    view.liquidation_distance]);
      if (history.length > HISTORY) history.shift();
    }
    renderUnderlying(name, view);
  }
  const costs = event.costs;
  $("#costs").innerHTML = `<dt>fees</dt><dd id="cost-fees">${fmt(costs.fees_usd, 2)} USD</dd>
    <dt>slippage</dt><dd>${fmt(costs.slippage_usd, 2)} USD</dd><dt>total</dt><dd>${fmt(costs.total_usd, 2)} USD</dd>
    <dt>fills</dt><dd>${costs.fills}</dd>`;
}

function listItem(list, html) {
  const item = document.createElement("li"); item.innerHTML = html; list.prepend(item);
  while (list.children.length > 50) list.removeChild(list.lastChild);
}
function escapeHtml(text) { const d = document.createElement("div"); d.textContent = text; return d.innerHTML; }
function onDecision(d) {
  listItem($("#decisions"), `<b>${time(d.ts_ns)}</b> ${d.underlying} ${d.act ? "<b>rebalance</b>" : "skip"}
    (${escapeHtml(d.trigger)}) <span class="reasons">${escapeHtml((d.reasons || []).join("; "))}</span>`);
}
function onFill(f) {
  listItem($("#fills"), `${time(f.ts_ns)} ${escapeHtml(f.instrument_id)} ${fmt(f.size_contracts, 3)} @ ${fmt(f.price_usd, 1)}
    <span class="reasons">fee ${fmt(f.fee_usd, 2)} USD</span>`);
}

async function refreshTables() {
  try {
    const [portfolio, orders] = await Promise.all([api("/api/portfolio"), api("/api/orders")]);
    $("#positions tbody").innerHTML = portfolio.positions.map(p => `<tr><td>${escapeHtml(p.instrument_id)}</td>
      <td>${escapeHtml(p.venue)}</td><td class="num">${fmt(p.size_contracts, 3)}</td>
      <td class="num">${fmt(p.entry_price_usd, 1)}</td></tr>`).join("");
    $("#orders tbody").innerHTML = orders.map(o => `<tr><td>${escapeHtml(o.client_order_id)}</td><td>${o.side}</td>
      <td class="num">${o.quantity}</td><td class="num">${o.filled}</td><td>${o.status}</td></tr>`).join("");
  } catch (error) { /* shown by the login form when it is the token */ }
}

async function refreshChain() {
  let chain;
  try { chain = await api("/api/chain"); } catch (error) { $("#chain").hidden = true; return false; }
  $("#chain").hidden = false;
  const oracle = chain.oracle || {};
  $("#chain-oracle").textContent = `block ${chain.block} · oracle ${fmt(oracle.price_usd, 2)} USD, ` +
    `round ${oracle.round_id}, ${fmt(oracle.age_s, 0)} s old · ${chain.out_of_band} vault(s) out of band`;
  $("#vaults tbody").innerHTML = (chain.vaults || []).map(v => `<tr><td>${escapeHtml(v.vault.slice(0, 10))}…</td>
    <td class="num">${fmt(v.delta_deviation_coin, 4)}</td><td class="num">${fmt(v.trade_coin, 4)}</td>
    <td class="${v.needs_rebalance ? "breach" : "inside"}">${v.beyond_outer_band ? "beyond outer band"
      : v.needs_rebalance ? "out of band" : "in band"}</td></tr>`).join("");
  const keeper = chain.keeper || {};
  const rows = (keeper.decisions || []).slice(0, 20).map(d => `<li>block ${d.block} ${escapeHtml(d.vault.slice(0, 10))}…
    <b>${d.act ? "rebalance" : "skip"}</b>${d.hard_limit ? " (" + escapeHtml(d.hard_limit) + ")" : ""}
    <span class="reasons">${escapeHtml(d.reason)}; cost ${fmt(d.cost_usd, 2)} USD, benefit ${fmt(d.benefit_usd, 2)} USD</span></li>`);
  $("#keeper").innerHTML = rows.length ? rows.join("") : "<li>no decision yet: every vault in band</li>";
  return true;
}

async function refreshMarket() {
  let market;
  try { market = await api("/api/market"); } catch (error) { $("#market").hidden = true; return false; }
  $("#market").hidden = false;
  $("#streams tbody").innerHTML = Object.entries(market.streams).map(([name, s]) => {
    const age = s.last_ts_ns === null ? null : (market.engine_ns - s.last_ts_ns) / 1e9;
    return `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(s.venue)}</td><td class="num">${s.events}</td>
      <td class="num ${s.open ? "" : "breach"}">${age === null ? "none yet" : fmt(age, 1)}</td>
      <td class="num">${s.restarts}</td><td class="num">${s.books_coalesced}</td><td>${escapeHtml(s.open ? s.error : "closed: " + s.error)}</td></tr>`;
  }).join("");
  return true;
}

async function stream() {
  while (true) {
    try {
      const response = await fetch("/api/stream", { headers: { "Authorization": "Bearer " + state.token } });
      if (response.status === 401) { showLogin("the token was refused"); return; }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          let name = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) name = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (!data) continue;
          const payload = JSON.parse(data);
          if (name === "greeks") onGreeks(payload);
          else if (name === "decision") onDecision(payload);
          else if (name === "fill") onFill(payload);
        }
      }
    } catch (error) { /* reconnect below */ }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

async function start() {
  try {
    const [status, greeks, decisions, fills] = await Promise.all([api("/api/status"), api("/api/greeks?history=true"),
      api("/api/decisions?limit=50"), api("/api/fills?limit=50")]);
    $("#name").textContent = status.name;
    for (const [name, rows] of Object.entries(greeks.history)) state.history[name] = rows.slice(-HISTORY);
    $("#login").hidden = true; $("#main").hidden = false;
    decisions.reverse().forEach(onDecision); fills.reverse().forEach(onFill);
    onGreeks({ ...status, underlyings: greeks.underlyings, costs: { fees_usd: 0, slippage_usd: 0, total_usd: 0, fills: 0 },
               engine_ns: greeks.engine_ns });
    refreshTables(); setInterval(refreshTables, 2000);
    if (await refreshChain()) setInterval(refreshChain, 5000);
    if (await refreshMarket()) setInterval(refreshMarket, 2000);
    stream();
  } catch (error) { if (error.message !== "unauthorized") showLogin(error.message); }
}

$("#login").addEventListener("submit", event => {
  event.preventDefault();
  state.token = $("#token").value.trim();
  sessionStorage.setItem("hedgekeeper-token", state.token);
  start();
});
async function control(path, method, body) {
  try { await api(path, { method, body: body ? JSON.stringify(body) : undefined }); } catch (error) { alert(error.message); }
}
$("#pause").onclick = () => control("/api/pause", "POST");
$("#resume").onclick = () => control("/api/resume", "POST");
$("#kill").onclick = () => { const reason = prompt("Why engage the kill switch?"); if (reason) control("/api/kill-switch", "POST", { reason }); };
$("#release").onclick = () => control("/api/kill-switch", "DELETE");
if (state.token) start(); else showLogin("");
