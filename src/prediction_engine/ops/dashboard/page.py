"""The dashboard page: self-contained HTML and JavaScript (plotly.js comes from the server).

The page reads its token from its own URL, loads ``/plotly.min.js`` and listens to ``/events``
with it, and redraws every table and the PnL chart on each snapshot. Venue text (questions,
slugs) is inserted with ``textContent`` only, never as HTML.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pengine dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 13px system-ui, sans-serif; margin: 12px; background: #fafafa; color: #222; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  h2 { font-size: 14px; margin: 14px 0 4px; }
  .summary span { display: inline-block; margin-right: 16px; }
  .summary b { font-variant-numeric: tabular-nums; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 20px; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #kill-switch.on { color: #fff; background: #c00; padding: 2px 6px; }
  #status.down { color: #c00; }
  #chart-pnl { height: 280px; background: #fff; }
  #books td { white-space: pre; }
</style>
</head>
<body>
<h1>pengine dashboard <small id="status">connecting...</small></h1>
<div class="summary">
  <span>time <b id="time">-</b></span><span>snapshot <b id="sequence">0</b></span>
  <span>strategies <b id="strategies">-</b></span><span>equity <b id="equity">-</b></span>
  <span>PnL <b id="pnl">-</b></span><span>realized <b id="realized">-</b></span>
  <span>unrealized <b id="unrealized">-</b></span><span>fees <b id="fees">-</b></span>
  <span>cash <b id="cash">-</b></span><span id="kill-switch">kill switch off</span>
</div>
<h2>PnL</h2>
<div id="chart-pnl"></div>
<div class="grid">
 <div><h2>Positions</h2><table id="positions"><thead></thead><tbody></tbody></table>
      <h2>Open orders</h2><table id="orders"><thead></thead><tbody></tbody></table>
      <h2>Recent fills</h2><table id="fills"><thead></thead><tbody></tbody></table></div>
 <div><h2>Books (top 5)</h2><table id="books"><thead></thead><tbody></tbody></table></div>
</div>
<h2>Recent signals</h2><table id="signals"><thead></thead><tbody></tbody></table>
<div class="grid">
 <div><h2>Feeds</h2><table id="feeds"><thead></thead><tbody></tbody></table></div>
 <div><h2>Counters</h2><table id="counters"><thead></thead><tbody></tbody></table></div>
</div>
<h2>Markets</h2><table id="markets"><thead></thead><tbody></tbody></table>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const q = "?token=" + encodeURIComponent(token);
const $ = (id) => document.getElementById(id);
const levels = (side) => side.map(([p, s]) => p + " x " + s).join("\\n");
const COLUMNS = {
  positions: [["slug", "slug"], ["outcome", "outcome"], ["shares", "shares", 1],
              ["avg", "average_price", 1], ["mark", "mark", 1], ["realized", "realized", 1],
              ["fees", "fees", 1]],
  orders: [["strategy", "strategy"], ["slug", "slug"], ["outcome", "outcome"], ["side", "side"],
           ["price", "price", 1], ["size", "size", 1], ["filled", "filled", 1],
           ["status", "status"]],
  fills: [["time", "time"], ["strategy", "strategy"], ["slug", "slug"], ["outcome", "outcome"],
          ["side", "side"], ["price", "price", 1], ["size", "size", 1], ["fee", "fee", 1],
          ["liquidity", "liquidity"]],
  books: [["slug", "slug"], ["outcome", "outcome"], ["bids", (r) => levels(r.bids)],
          ["asks", (r) => levels(r.asks)]],
  signals: [["time", "time"], ["strategy", "strategy"], ["slug", "slug"],
            ["outcome", "outcome"], ["side", "side"], ["edge", (r) => r.edge.toFixed(4), 1],
            ["fair", (r) => r.fair_price.toFixed(4), 1], ["action", "action"]],
  feeds: [["connection", "name"], ["up", (r) => r.connected ? "yes" : "NO"],
          ["frames", "frames", 1],
          ["last frame (s)", (r) => r.last_frame_age_s === null ? "-" : r.last_frame_age_s, 1],
          ["connects", "connects", 1], ["disconnects", "disconnects", 1], ["stale", "stale", 1]],
  counters: [["counter", "name"], ["value", "value", 1]],
  markets: [["slug", "slug"], ["question", "question"], ["closed", (r) => r.closed ? "yes" : ""]],
};
function fill(id, rows) {
  const columns = COLUMNS[id], table = $(id);
  if (!table.tHead.rows.length) {
    const head = table.tHead.insertRow();
    for (const [title] of columns) {
      head.appendChild(document.createElement("th")).textContent = title;
    }
  }
  const body = document.createElement("tbody");
  for (const row of rows) {
    const tr = body.insertRow();
    for (const [, key, numeric] of columns) {
      const td = tr.insertCell();
      td.textContent = typeof key === "function" ? key(row) : row[key];
      if (numeric) td.className = "n";
    }
  }
  table.replaceChild(body, table.tBodies[0]);
}
function chart(history) {
  if (!window.Plotly) return;
  const x = history.map((p) => p.time);
  const trace = (name, key) => ({x, y: history.map((p) => Number(p[key])), name,
                                 type: "scatter", mode: "lines"});
  Plotly.react("chart-pnl", [trace("PnL", "pnl"), trace("realized", "realized"),
                             trace("unrealized", "unrealized")],
               {margin: {l: 50, r: 10, t: 10, b: 30}, legend: {orientation: "h"},
                yaxis: {title: "USD"}}, {displayModeBar: false, responsive: true});
}
function render(s) {
  for (const id of ["time", "sequence", "equity", "pnl", "realized", "unrealized", "fees",
                    "cash"]) $(id).textContent = s[id];
  $("strategies").textContent = s.strategies.join(", ") || "-";
  const kill = $("kill-switch");
  kill.textContent = s.kill_switch ? "KILL SWITCH: " + s.kill_switch : "kill switch off";
  kill.className = s.kill_switch ? "on" : "";
  for (const id of ["positions", "books", "fills", "signals", "feeds", "markets"]) fill(id, s[id]);
  fill("orders", s.open_orders);
  const counters = Object.entries(s.engine).map(([k, v]) => ({name: "engine " + k, value: v}))
    .concat(Object.entries(s.session).map(([k, v]) => ({name: "session " + k, value: v})));
  fill("counters", counters);
  chart(s.pnl_history);
}
const script = document.createElement("script");
script.src = "/plotly.min.js" + q;
document.head.appendChild(script);
fetch("/api/snapshot" + q).then((r) => r.ok ? r.json() : null).then((s) => s && render(s));
const events = new EventSource("/events" + q);
events.addEventListener("snapshot", (e) => { render(JSON.parse(e.data));
  $("status").textContent = "live"; $("status").className = ""; });
events.onerror = () => { $("status").textContent = "disconnected, retrying";
  $("status").className = "down"; };
</script>
</body>
</html>
"""
