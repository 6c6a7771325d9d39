// rampart dashboard enhancements. Every page reads without this file:
// the charts are server-drawn SVG, which uPlot replaces with interactive
// ones when it is loaded. No inline script: the data comes from the
// <script type="application/json" id="series-data"> block.
(function () {
  "use strict";
  function charts() {
    var el = document.getElementById("series-data");
    if (!el || typeof uPlot === "undefined") return;
    var data;
    try { data = JSON.parse(el.textContent); } catch (e) { return; }
    if (!data || !data.x || !data.series) return;
    var boxes = document.querySelectorAll("figure.chartbox");
    data.series.forEach(function (s, i) {
      var box = boxes[i];
      if (!box || box.dataset.uplot) return;
      box.dataset.uplot = "1";
      var width = Math.max(280, box.clientWidth - 10);
      var holder = document.createElement("div");
      box.appendChild(holder);
      new uPlot({
        width: width, height: 160,
        series: [{}, { label: s.Label, stroke: "#1d4ed8", width: 1.5 }],
        // x: at least 110 px between time labels, so that they do
        // not crowd on a narrow chart; y: room for large numbers.
        axes: [{ space: 110 }, { size: 60 }],
        legend: { show: true }
      }, [data.x, s.Values || []], holder);
      box.classList.add("has-uplot");
    });
  }
  document.addEventListener("DOMContentLoaded", charts);
  document.addEventListener("htmx:afterSettle", charts);
})();
