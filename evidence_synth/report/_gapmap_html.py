"""The self-contained interactive gap-map page (inline CSS and JS; no network access)."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._version import __version__
from ..countries import country_name
from ._gapmap_inputs import ancestors, citation

if TYPE_CHECKING:
    from .gapmap import GapMap

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  margin:0;color:#222;background:#fff}
header{padding:10px 16px;background:#1f4e79;color:#fff}
header h1{margin:0;font-size:20px}
#filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:10px 16px;
  background:#f2f5f9;border-bottom:1px solid #d0d7e2;font-size:13px}
#filters select{margin-left:4px;font-size:13px;max-width:220px}
#status{margin-left:auto;color:#444}
#layout{display:flex;gap:14px;padding:12px 16px;align-items:flex-start}
#mapwrap{overflow:auto;flex:1 1 auto}
table#gapmap{border-collapse:collapse;font-size:12px}
#gapmap th,#gapmap td{border:1px solid #d9d9d9;padding:4px}
#gapmap thead th{background:#eef2f7;vertical-align:bottom;min-width:92px;font-weight:600}
#gapmap th.rowlabel{text-align:left;font-weight:normal;min-width:260px;max-width:360px;
  background:#fafafa}
#gapmap th.rowlabel.level-0{font-weight:700;background:#eef2f7}
#gapmap th.rowlabel.ext{color:#7a3e00}
#gapmap th.rowlabel.ext.level-0::after{content:" (new strategy)";font-size:10px;color:#7a3e00}
#gapmap td.cell{text-align:center;cursor:pointer;min-width:92px;height:44px}
#gapmap td.cell:hover{background:#fff7e0}
#gapmap td.cell.selected{outline:3px solid #ffc000;outline-offset:-3px;background:#fff7e0}
#gapmap td.cell.empty{background:#fbfbfb}
.bubble{display:inline-flex;align-items:center;justify-content:center;border-radius:50%;
  margin:1px;font-size:10px;border:1px solid #333;box-sizing:border-box}
.ie-prev{background:#1f4e79;color:#fff}.ie-new{background:#9dc3e6}
.sr-prev{background:#c55a11;color:#fff}.sr-new{background:#f8cbad}
.dir-adverse{background:#c00000;color:#fff}.dir-beneficial{background:#548235;color:#fff}
.dir-mixed{background:#7030a0;color:#fff}.dir-unclear{background:#bfbfbf}
#viewnote{padding:0 16px 6px 16px;font-size:12px;color:#444}
aside#studies{flex:0 0 340px;border:1px solid #d0d7e2;border-radius:6px;padding:10px 12px;
  font-size:13px;max-height:80vh;overflow:auto;background:#fcfcfd}
aside#studies h2{font-size:15px;margin:0 0 6px 0}
aside#studies li{margin-bottom:6px}
aside#studies .meta{color:#555;font-size:11px}
#legend{padding:0 16px 8px 16px;font-size:12px;display:flex;gap:14px;flex-wrap:wrap}
#legend span.bubble{width:16px;height:16px}
footer{padding:8px 16px;font-size:11px;color:#666;border-top:1px solid #e3e3e3}
"""

_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("gapmap-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var KEYS = ["view", "country", "design", "effects", "type", "origin"];
  var state = {view: "main", country: "all", design: "all", effects: "all", type: "all",
               origin: "all", cell: null};
  var CATS = [["ie-prev", "impact_evaluation", "previous_map", "Impact evaluations, previous map"],
              ["ie-new", "impact_evaluation", "new", "Impact evaluations, new"],
              ["sr-prev", "systematic_review", "previous_map", "Systematic reviews, previous map"],
              ["sr-new", "systematic_review", "new", "Systematic reviews, new"]];
  var DIRS = [["dir-adverse", "adverse", "Adverse effects"],
              ["dir-beneficial", "beneficial", "Beneficial effects"],
              ["dir-mixed", "mixed", "Mixed effects"],
              ["dir-unclear", "unclear", "Direction unclear"]];
  var OPTIONS = {
    view: [["main", "Outcomes"], ["unintended", "Unintended effects"]],
    country: [["all", "All countries"]].concat(D.countries),
    design: [["all", "All designs"]].concat(D.designs.map(function (c) { return [c, c]; })),
    effects: [["all", "All outcomes"], ["unintended", "Any unintended effect"]].concat(
      D.effects.map(function (c) { return [c, c.replace(/_/g, " ")]; })),
    type: [["all", "All study types"], ["impact_evaluation", "Impact evaluations"],
           ["systematic_review", "Systematic reviews"]],
    origin: [["all", "Previous map and new"], ["previous_map", "Previous map only"],
             ["new", "New only"]]
  };

  function fill(key) {
    var el = $("f-" + key);
    OPTIONS[key].forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0]; opt.textContent = o[1]; el.appendChild(opt);
    });
    el.addEventListener("change", function () {
      state[key] = el.value;
      if (key === "view") { state.cell = null; }
      update();
    });
  }

  function readHash() {
    var text = window.location.hash.replace(/^#/, "") || window.location.search.replace(/^\?/, "");
    text.split("&").forEach(function (part) {
      if (!part) { return; }
      var i = part.indexOf("=");
      var key = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      var value = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
      if (key === "cell") {
        var bits = value.split("|");
        if (bits.length === 2) { state.cell = bits; }
      } else if (KEYS.indexOf(key) >= 0) {
        if (key === "country" && D.countryIndex[value.toLowerCase()]) {
          value = D.countryIndex[value.toLowerCase()];
        }
        var known = OPTIONS[key].some(function (o) { return o[0] === value; });
        if (known) { state[key] = value; }
      }
    });
    KEYS.forEach(function (k) { $("f-" + k).value = state[k]; });
  }

  function writeHash() {
    var parts = KEYS.filter(function (k) {
      return state[k] !== (k === "view" ? "main" : "all");
    }).map(function (k) { return k + "=" + encodeURIComponent(state[k]); });
    if (state.cell) { parts.push("cell=" + encodeURIComponent(state.cell.join("|"))); }
    try { history.replaceState(null, "", "#" + parts.join("&")); } catch (e) { /* file: */ }
  }

  function passes(e) {
    var study = D.studies[e[0]], effect = e[5];
    if (state.country !== "all" && e[3].indexOf(state.country) < 0) { return false; }
    if (state.design !== "all" && e[4] !== state.design) { return false; }
    if (state.effects === "unintended") {
      if (effect !== "unintended_beneficial" && effect !== "unintended_adverse") { return false; }
    } else if (state.effects !== "all" && effect !== state.effects) { return false; }
    if (state.type !== "all" && study.type !== state.type) { return false; }
    if (state.origin !== "all" && study.origin !== state.origin) { return false; }
    return true;
  }

  function columns() { return state.view === "main" ? D.columns : D.ucolumns; }

  function compute() {
    var cells = {}, shown = {};
    D.evidence.forEach(function (e, k) {
      if (!passes(e)) { return; }
      shown[e[0]] = true;
      var cols = state.view === "main" ? e[2] : e[6];
      e[1].forEach(function (r) {
        cols.forEach(function (c) {
          var key = r + "," + c;
          (cells[key] = cells[key] || {studies: {}, dirs: {}, rows: []});
          cells[key].studies[e[0]] = true;
          (cells[key].dirs[e[7]] = cells[key].dirs[e[7]] || {})[e[0]] = true;
          cells[key].rows.push(k);
        });
      });
    });
    return {cells: cells, shown: Object.keys(shown).map(Number)};
  }

  function counts(cell) {
    var out = {total: 0};
    CATS.concat(DIRS).forEach(function (c) { out[c[0]] = 0; });
    if (!cell) { return out; }
    Object.keys(cell.studies).forEach(function (s) {
      var st = D.studies[s];
      out.total += 1;
      CATS.forEach(function (c) {
        if (st.type === c[1] && st.origin === c[2]) { out[c[0]] += 1; }
      });
    });
    DIRS.forEach(function (d) { out[d[0]] = Object.keys(cell.dirs[d[1]] || {}).length; });
    return out;
  }

  function legend() {
    var box = $("legend");
    box.innerHTML = "";
    (state.view === "main" ? CATS : DIRS).forEach(function (c) {
      var item = document.createElement("span"), b = document.createElement("span");
      b.className = "bubble " + c[0]; item.appendChild(b);
      item.appendChild(document.createTextNode(" " + c[c.length - 1])); box.appendChild(item);
    });
    var unintended = state.effects === "unintended" || state.effects.indexOf("unintended_") === 0;
    $("viewnote").textContent = state.view === "main" ?
      D.notes.main + (unintended && D.notes.elsewhere ? " " + D.notes.elsewhere : "") :
      D.notes.unintended;
  }

  function render(result) {
    var table = $("gapmap"), cols = columns(), groups = state.view === "main" ? CATS : DIRS;
    table.innerHTML = "";
    table.setAttribute("data-view", state.view);
    var peak = 1;
    Object.keys(result.cells).forEach(function (k) {
      var n = counts(result.cells[k]);
      groups.forEach(function (c) { peak = Math.max(peak, n[c[0]]); });
    });
    var thead = document.createElement("thead"), hr = document.createElement("tr");
    var corner = document.createElement("th");
    corner.textContent = "Interventions \u2193 / " +
      (state.view === "main" ? "Outcomes" : "Unintended effects") + " \u2192";
    hr.appendChild(corner);
    cols.forEach(function (col) {
      var th = document.createElement("th");
      th.textContent = col.label; th.className = "level-" + col.level;
      th.setAttribute("data-col", col.id);
      hr.appendChild(th);
    });
    thead.appendChild(hr); table.appendChild(thead);
    var tbody = document.createElement("tbody");
    D.rows.forEach(function (row, i) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.className = "rowlabel level-" + row.level + (row.ns === "ext" ? " ext" : "");
      th.style.paddingLeft = (6 + 16 * row.level) + "px";
      th.textContent = row.label;
      if (row.mapsTo) { th.title = "Extends " + row.mapsTo; }
      th.setAttribute("data-row", row.id);
      tr.appendChild(th);
      cols.forEach(function (col, j) {
        var td = document.createElement("td");
        var n = counts(result.cells[i + "," + j]);
        td.className = "cell" + (n.total ? "" : " empty");
        td.setAttribute("data-row", row.id); td.setAttribute("data-col", col.id);
        td.setAttribute("data-n", n.total);
        td.title = row.label + " \u00d7 " + col.label + ": " + n.total + " studies";
        groups.forEach(function (c) {
          if (!n[c[0]]) { return; }
          var b = document.createElement("span"), size = 16 + 20 * Math.sqrt(n[c[0]] / peak);
          b.className = "bubble " + c[0]; b.textContent = n[c[0]];
          b.style.width = size + "px"; b.style.height = size + "px";
          b.title = c[c.length - 1] + ": " + n[c[0]];
          td.appendChild(b);
        });
        if (state.cell && state.cell[0] === row.id && state.cell[1] === col.id) {
          td.className += " selected";
        }
        td.addEventListener("click", function () { state.cell = [row.id, col.id]; update(); });
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    $("status").textContent = result.shown.length + " of " + D.studies.length + " studies shown";
  }

  function studyItem(s, rows) {
    var st = D.studies[s], li = document.createElement("li");
    li.setAttribute("data-study", st.id);
    var title = document.createElement("div");
    title.textContent = st.label || st.id;
    var meta = document.createElement("div");
    meta.className = "meta";
    var countries = {}, designs = {}, effects = {};
    rows.forEach(function (k) {
      var e = D.evidence[k];
      if (e[0] !== s) { return; }
      e[3].forEach(function (c) { countries[D.countryName[c] || c] = 1; });
      designs[e[4]] = 1;
      effects[e[8] || e[5]] = 1;
    });
    meta.textContent = [st.id, st.type.replace(/_/g, " "), st.origin.replace(/_/g, " "),
      Object.keys(countries).join(", "), Object.keys(designs).join(", "),
      Object.keys(effects).join(", ").replace(/_/g, " ")].filter(Boolean).join(" \u00b7 ");
    li.appendChild(title); li.appendChild(meta);
    return li;
  }

  function listStudies(panel, ids, rows) {
    var ul = document.createElement("ul");
    ul.id = "study-list";
    ids.sort(function (a, b) { return D.studies[a].id < D.studies[b].id ? -1 : 1; });
    ids.forEach(function (s) { ul.appendChild(studyItem(s, rows)); });
    panel.appendChild(ul);
  }

  function showCell(result) {
    var panel = $("studies");
    panel.innerHTML = "";
    var h = document.createElement("h2"), cols = columns();
    if (!state.cell) {
      h.textContent = "Studies matching the filters"; panel.appendChild(h);
      var p = document.createElement("p");
      p.id = "match-count"; p.setAttribute("data-n", result.shown.length);
      p.textContent = result.shown.length + (result.shown.length === 1 ? " study" : " studies") +
        "; click a cell to list its studies.";
      panel.appendChild(p);
      var all = [];
      D.evidence.forEach(function (e, k) { if (passes(e)) { all.push(k); } });
      listStudies(panel, result.shown.slice(), all);
      return;
    }
    var ri = D.rows.findIndex(function (r) { return r.id === state.cell[0]; });
    var ci = cols.findIndex(function (c) { return c.id === state.cell[1]; });
    if (ri < 0 || ci < 0) { state.cell = null; showCell(result); return; }
    h.textContent = D.rows[ri].label + " \u00d7 " + cols[ci].label;
    panel.appendChild(h);
    var cell = result.cells[ri + "," + ci];
    var ids = cell ? Object.keys(cell.studies).map(Number) : [];
    var info = document.createElement("p");
    info.id = "cell-count"; info.setAttribute("data-n", ids.length);
    info.textContent = ids.length + (ids.length === 1 ? " study" : " studies");
    panel.appendChild(info);
    listStudies(panel, ids, cell ? cell.rows : []);
  }

  function update() {
    var result = compute();
    legend();
    render(result);
    showCell(result);
    writeHash();
  }

  KEYS.forEach(fill);
  readHash();
  update();
  window.addEventListener("hashchange", function () { readHash(); update(); });
  document.body.setAttribute("data-ready", "1");
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="evidence_synth {version}">
<meta name="protocol-sha256" content="{protocol}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header><h1>{title}</h1></header>
<section id="filters">
<label>View<select id="f-view"></select></label>
<label>Country<select id="f-country"></select></label>
<label>Design<select id="f-design"></select></label>
<label>Unintended effects<select id="f-effects"></select></label>
<label>Study type<select id="f-type"></select></label>
<label>Origin<select id="f-origin"></select></label>
<span id="status"></span>
</section>
<div id="legend"></div>
<div id="viewnote"></div>
<div id="layout">
<div id="mapwrap"><table id="gapmap"></table></div>
<aside id="studies"></aside>
</div>
<footer>Counts are studies, not records; a parent row or column counts the distinct studies
of its sub-levels. {footer}</footer>
<script id="gapmap-data" type="application/json">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def payload(gm: GapMap) -> dict[str, Any]:
    """The data the page's script draws from: nodes, studies and one entry per evidence row
    ``[study, row ancestors, main-column ancestors, countries, design, effect class,
    unintended-column ancestors, direction, unintended effect]`` (indices into the node
    lists; an empty list where the row is not on that view)."""
    up_r, up_c = ancestors(gm.rows), ancestors(gm.columns)
    up_u = ancestors(gm.unintended_columns)
    r_index = {n: i for i, n in enumerate(gm.rows["node_id"])}
    c_index = {n: i for i, n in enumerate(gm.columns["node_id"])}
    u_index = {n: i for i, n in enumerate(gm.unintended_columns["node_id"])}
    studies = gm.evidence.drop_duplicates("study_id").reset_index(drop=True)
    s_index = {s: i for i, s in enumerate(studies["study_id"])}
    u_label = dict(zip(gm.unintended_columns["node_id"], gm.unintended_columns["label"],
                       strict=True))

    def nodes(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"id": n.node_id, "label": n.label, "level": int(n.level), "ns": n.namespace,
                 "mapsTo": None if pd.isna(n.maps_to) else str(n.maps_to)}
                for n in frame.itertuples()]

    rows = []
    ev = gm.evidence
    names = ("study_id", "intervention", "outcome", "on_main", "countries",
             "countries_unknown", "design", "effect_class", "unintended_column", "direction",
             "effect_label", "unintended_code")
    for (study, row, outcome, on_main, countries, unknown, design, effect_class, side,
         direction, label, code) in zip(*(ev[c].to_numpy(dtype=object) for c in names),
                                        strict=True):
        side = side if isinstance(side, str) else None
        effect = label or code.replace("_", " ").lower() or (
            u_label.get(side, "") if side is not None else "")
        rows.append([s_index[study], [r_index[x] for x in up_r[row]],
                     [c_index[x] for x in up_c[outcome]] if on_main else [],
                     [*countries, *unknown], design, effect_class,
                     [u_index[x] for x in up_u[side]] if side is not None else [],
                     direction, effect])
    codes = sorted({c for cs in gm.evidence["countries"] for c in cs})
    unknown = sorted({c for cs in gm.evidence["countries_unknown"] for c in cs})
    names = {c: country_name(c) for c in codes}
    countries = sorted(([c, f"{names[c]} ({c})"] for c in codes), key=lambda o: o[1])
    countries += [[u, f"{u} (not an ISO 3166 country)"] for u in unknown]
    index = {c.lower(): c for c in codes} | {n.lower(): c for c, n in names.items()}
    index |= {u.lower(): u for u in unknown}
    has_layer = not gm.unintended_columns["node_id"].isin(set(gm.columns["node_id"])).all() \
        if len(gm.unintended_columns) else False
    return {
        "rows": nodes(gm.rows),
        "columns": nodes(gm.columns),
        "ucolumns": nodes(gm.unintended_columns),
        "studies": [{"id": s.study_id, "label": citation(s.title, s.year) or s.study_id,
                     "type": s.study_type, "origin": s.origin} for s in studies.itertuples()],
        "evidence": rows,
        "countries": countries,
        "countryName": names,
        "countryIndex": index,
        "designs": sorted(set(gm.evidence["design"])),
        "effects": sorted(set(gm.evidence["effect_class"])),
        "notes": {
            "main": "Outcome columns: studies by type and origin.",
            "unintended": (
                "Unintended effects: studies by the direction of the effect, per domain "
                "of unintended effect (an effect coded on an outcome column sits in its "
                "codebook domain)." if has_layer else
                "Unintended effects on the outcome columns, by direction."),
            "elsewhere": (
                "Unintended effects coded on their own domains (route diversion, migrant "
                "safety, ...) are in the Unintended effects view; the list counts them all."
                if has_layer else ""),
        },
        "version": __version__,
        "protocol": gm.protocol_sha256,
    }


def render_html(page_data: dict[str, Any], *, title: str, footer: str) -> str:
    """The page for one map; ``page_data`` is built by :func:`payload`."""
    data = json.dumps(page_data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = data.replace("<", "\\u003c")  # "<" only occurs inside JSON strings
    return _PAGE.format(
        version=html.escape(str(page_data.get("version", ""))),
        protocol=html.escape(str(page_data.get("protocol") or "none")),
        title=html.escape(title), css=_CSS, footer=html.escape(footer), data=data, js=_JS,
    )
