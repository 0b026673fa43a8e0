#pragma once
// The Motion Box's web page (served by motionbox_serve.cpp at /): plain HTML
// and a little vanilla JavaScript, no framework. It reads GET /api/motors,
// follows GET /events (server-sent events) for live status, and shows every
// action's result or error in the log. Element ids/classes are what the
// browser test (tests/integration/motionbox_page_test.py) looks for.

namespace pandafly::tools {

inline constexpr const char* kMotionboxPage = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Motion Box</title>
<style>
body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
td input{width:7em}td input.root{width:10em}
.on{background:#f88}.moving{background:#ff8}.ok{color:#070}.err{color:#b00}
#log{border:1px solid #bbb;height:12em;overflow:auto;font-family:monospace;padding:4px}
</style></head><body>
<h1>Motion Box</h1>
<p>File: <span id="file"></span>, tolerance <span id="tolerance"></span>.
Homing: <span id="homing">idle</span>. Live: <span id="live">connecting</span></p>
<table id="motors"><thead><tr>
<th><input type="checkbox" id="select-all" title="select all"></th><th>motor</th><th>pv_root</th>
<th>lo_lim</th><th>center</th><th>hi_lim</th><th>RBV</th><th>LLS</th><th>HLS</th><th>DMOV</th>
<th>LLM</th><th>HLM</th><th>phase</th><th>result</th><th></th></tr></thead><tbody></tbody>
<tfoot><tr id="new-row"><td></td><td><input id="new-name" placeholder="name"></td>
<td><input class="root" id="new-pv_root" placeholder="pv_root"></td>
<td><input id="new-lo_lim" placeholder="lo_lim"></td><td><input id="new-center" placeholder="center"></td>
<td><input id="new-hi_lim" placeholder="hi_lim"></td><td colspan="8"></td>
<td><button id="add">add</button></td></tr></tfoot></table>
<p><button id="home-hi">home hi</button> <button id="home-lo">home lo</button>
(the selected motors) <button id="stop">STOP all</button> (every motor of the file)</p>
<div id="log"></div>
<script>
"use strict";
const $ = (s, e) => (e || document).querySelector(s);
function log(text, cls) {
  const d = document.createElement("div");
  d.className = "msg " + (cls || "");
  d.textContent = new Date().toLocaleTimeString() + " " + text;
  $("#log").prepend(d);
}
async function api(method, path, body) {
  const r = await fetch(path, {method, headers: {"Content-Type": "application/json"},
                               body: body === undefined ? undefined : JSON.stringify(body)});
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}
function fmt(v) { return v === null || v === undefined ? "" : (+v).toPrecision(6).replace(/\.?0+$/, ""); }
function row(m) {
  const tr = document.createElement("tr");
  tr.dataset.name = m.name;
  tr.innerHTML = `<td><input type="checkbox" class="sel"></td><td class="name"></td>
<td><input class="root"></td><td><input class="lo_lim"></td><td><input class="center"></td>
<td><input class="hi_lim"></td><td class="RBV"></td><td class="LLS"></td><td class="HLS"></td>
<td class="DMOV"></td><td class="LLM"></td><td class="HLM"></td><td class="phase"></td>
<td class="result"></td><td><button class="save">save</button> <button class="remove">remove</button></td>`;
  $(".name", tr).textContent = m.name;
  $("input.root", tr).value = m.pv_root;
  for (const k of ["lo_lim", "center", "hi_lim"]) $("input." + k, tr).value = m[k];
  $(".save", tr).onclick = () => act("changed " + m.name, () => api("PUT", "/api/motors/" +
      encodeURIComponent(m.name), entry(tr)));
  $(".remove", tr).onclick = () => act("removed " + m.name, () => api("DELETE", "/api/motors/" +
      encodeURIComponent(m.name)));
  return tr;
}
function entry(tr, p) {
  const v = k => $(p ? "#new-" + k : "input." + k, tr).value;
  const num = k => v(k).trim() === "" ? null : Number(v(k));
  return {pv_root: v(p ? "pv_root" : "root"), lo_lim: num("lo_lim"), center: num("center"), hi_lim: num("hi_lim")};
}
function status(s) {
  const tr = $(`tr[data-name="${CSS.escape(s.name)}"]`);
  if (!tr) return;
  for (const k of ["RBV", "LLM", "HLM"]) if (k in s) $("." + k, tr).textContent = fmt(s[k]);
  for (const k of ["LLS", "HLS"]) if (k in s && s[k] !== null) {
    $("." + k, tr).textContent = s[k] ? "ON" : "off";
    $("." + k, tr).classList.toggle("on", !!s[k]);
  }
  if ("DMOV" in s && s.DMOV !== null) {
    $(".DMOV", tr).textContent = s.DMOV ? "done" : "moving";
    tr.classList.toggle("moving", !s.DMOV);
  }
  if ("connected" in s && !s.connected) $(".phase", tr).textContent = "not connected";
  if ("connected" in s && s.connected && $(".phase", tr).textContent === "not connected")
    $(".phase", tr).textContent = "";
  if ("phase" in s) $(".phase", tr).textContent = s.phase;
}
function render(all) {
  $("#file").textContent = all.file;
  $("#tolerance").textContent = all.tolerance;
  const body = $("#motors tbody");
  const selected = new Set(selection());
  body.replaceChildren(...all.motors.map(row));
  for (const m of all.motors) {
    if (selected.has(m.name)) $(`tr[data-name="${CSS.escape(m.name)}"] .sel`).checked = true;
    if (m.live) status(Object.assign({name: m.name}, m.live));
  }
  homing(all.homing);
}
function homing(h) {
  $("#homing").textContent = h.running ? `running (${h.mode}: ${h.motors.join(", ")})` : "idle";
  if (h.error) log("homing: " + h.error, "err");
  for (const r of h.reports || []) {
    const tr = $(`tr[data-name="${CSS.escape(r.name)}"]`);
    const text = r.ok ? `homed ${r.direction}: switch ${fmt(r.switch_before)} → ${fmt(r.switch_value)}, at ${fmt(r.rbv)}`
                      : `${r.interrupted ? "INTERRUPTED" : "FAILED"} in ${r.failed_in}: ${r.error}; at ${fmt(r.rbv)}`;
    if (tr) {
      $(".result", tr).textContent = text;
      $(".result", tr).className = "result " + (r.ok ? "ok" : "err");
    }
    if (!h.running) log(r.name + ": " + text, r.ok ? "ok" : "err");
  }
}
function selection() {
  return [...document.querySelectorAll("#motors tbody tr")].filter(tr => $(".sel", tr).checked)
      .map(tr => tr.dataset.name);
}
async function act(what, f) {
  try {
    const j = await f();
    log(what + (j && j.stopped ? ": STOP written to " + j.stopped.join(", ") +
        (j.failed.length ? "; failed: " + j.failed.map(x => x.pv_root + " (" + x.error + ")").join(", ") : "") : ""), "ok");
    return j;
  } catch (e) {
    log(what + " FAILED: " + e.message, "err");
  }
}
async function refresh() { render(await api("GET", "/api/motors")); }
function home(mode) {
  const sel = selection();
  if (!sel.length) { log("home " + mode + ": select at least one motor", "err"); return; }
  for (const n of sel) $(`tr[data-name="${CSS.escape(n)}"] .result`).textContent = "";
  act(`home ${mode} started for ${sel.join(", ")}`, () => api("POST", "/api/home", {motors: sel, mode}));
}
$("#home-hi").onclick = () => home("hi");
$("#home-lo").onclick = () => home("lo");
$("#stop").onclick = () => act("stop", () => api("POST", "/api/stop"));
$("#select-all").onchange = e => document.querySelectorAll("#motors .sel").forEach(c => c.checked = e.target.checked);
$("#add").onclick = () => {
  const name = $("#new-name").value.trim();
  act("added " + name, () => api("POST", "/api/motors", Object.assign({name}, entry(null, true))));
};
const events = new EventSource("/events");
events.onopen = () => { $("#live").textContent = "on"; refresh().catch(e => log(e.message, "err")); };
events.onerror = () => { $("#live").textContent = "reconnecting"; };
events.addEventListener("status", e => status(JSON.parse(e.data)));
events.addEventListener("progress", e => status(JSON.parse(e.data)));
events.addEventListener("file", e => render(JSON.parse(e.data)));
events.addEventListener("home", e => homing(JSON.parse(e.data)));
events.addEventListener("error", e => { if (e.data) log(JSON.parse(e.data).error, "err"); });
</script></body></html>
)PAGE";

}  // namespace pandafly::tools
