// Draws the charts whose data the server put in data-chart (no inline scripts: CSP),
// and sends the session's CSRF token with every htmx request.
(function () {
  "use strict";
  function draw(el) {
    if (el.dataset.drawn || typeof echarts === "undefined") return;
    var spec = JSON.parse(el.dataset.chart);
    var option;
    if (spec.kind === "funnel") {
      option = { tooltip: {}, series: [{ type: "funnel", sort: "none", left: "5%", width: "62%", label: { formatter: "{b}: {c}" }, data: spec.data }] };
    } else if (spec.kind === "radar") {
      option = { radar: { indicator: spec.indicators, radius: "65%" }, series: [{ type: "radar", areaStyle: {}, data: [{ value: spec.values }] }] };
    } else if (spec.kind === "bar") {
      option = { grid: { left: 140, right: 20, top: 10, bottom: 20 }, xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: spec.categories, inverse: true }, series: [{ type: "bar", data: spec.values }] };
    } else if (spec.kind === "boxish") {
      option = { tooltip: { trigger: "axis" }, legend: {}, grid: { left: 50, right: 20, bottom: 60 }, xAxis: { type: "category", data: spec.categories, axisLabel: { rotate: 30 } }, yAxis: { type: "value" }, series: [{ name: spec.median_name || "median", type: "bar", data: spec.median }, { name: spec.max_name || "longest", type: "scatter", data: spec.max }] };
    } else if (spec.kind === "lines") {
      option = { tooltip: { trigger: "axis" }, legend: { type: "scroll" }, grid: { left: 50, right: 20, bottom: spec.x_name ? 56 : 40 }, xAxis: { type: "category", data: spec.x, name: spec.x_name, nameLocation: "middle", nameGap: 30 }, yAxis: { type: "value", max: spec.y_max, name: spec.y_name }, series: spec.series.map(function (s) { return { name: s.name, type: "line", showSymbol: false, data: s.data }; }) };
    } else if (spec.kind === "path") {
      var n = spec.nodes.length;
      var nodes = spec.nodes.map(function (d, i) { return { name: d.name, x: i * 200, y: (i % 2) * 60, symbolSize: 28 + Math.min(40, d.value), value: d.value, label: { show: true, position: "bottom" } }; });
      option = { tooltip: {}, series: [{ type: "graph", layout: "none", roam: false, data: nodes, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 12, edgeLabel: { show: true, formatter: function (p) { return p.data.label; }, fontSize: 14 }, lineStyle: { width: 2 }, links: spec.links.map(function (l) { return { source: l.source, target: l.target, label: l.label }; }) }] };
    } else if (spec.kind === "heatmap") {
      var max = 1; spec.cells.forEach(function (c) { if (c[2] > max) max = c[2]; });
      // every code named on both axes (none skipped), long names cut with an ellipsis, axis names shown
      el.style.height = Math.max(320, 200 + 18 * spec.labels.length) + "px";
      var codeLabel = { interval: 0, fontSize: 10, width: 118, overflow: "truncate" };
      option = { tooltip: {}, grid: { left: 130, bottom: 140, right: 10, top: 30 }, xAxis: { type: "category", data: spec.labels, name: spec.axis_name, nameLocation: "middle", nameGap: 128, axisLabel: Object.assign({ rotate: 60 }, codeLabel) }, yAxis: { type: "category", data: spec.labels, name: spec.axis_name, axisLabel: codeLabel }, visualMap: { min: 0, max: max, show: false, inRange: { color: ["#c6dbef", "#0f4c81"] } }, series: [{ type: "heatmap", data: spec.cells, label: { show: true } }] };
    } else {
      return;
    }
    echarts.init(el).setOption(option);
    el.dataset.drawn = "1";
  }
  function drawAll(root) { (root || document).querySelectorAll("[data-chart]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(document); });
  // Coding a passage: the selection inside #source-text becomes code-point offsets of the source.
  function codePoints(text) { return Array.from(text).length; }
  function offsetOf(node, offset) {
    var span = node.nodeType === 3 ? node.parentElement : node;
    if (!span || span.dataset.start === undefined) return null;
    return Number(span.dataset.start) + codePoints(node.nodeType === 3 ? node.textContent.slice(0, offset) : "");
  }
  document.addEventListener("selectionchange", function () {
    var box = document.getElementById("source-text");
    var start = document.getElementById("sel-start");
    if (!box || !start) return;
    var sel = document.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    var range = sel.getRangeAt(0);
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
    var a = offsetOf(range.startContainer, range.startOffset);
    var b = offsetOf(range.endContainer, range.endOffset);
    if (a === null || b === null || b <= a) return;
    start.value = a;
    document.getElementById("sel-end").value = b;
    var preview = document.getElementById("selection-preview");
    if (preview) preview.textContent = a + "–" + b + ": " + sel.toString().slice(0, 80);
  });
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
})();
