/* Draws every <canvas data-chart> of the page with Chart.js (served from our static files).
   data-source: id of a json_script element; data-labels: its key for the x labels;
   data-series: "key:Label,key:Label" for the datasets. No inline script: the page's
   Content-Security-Policy allows only our own files. */
(function () {
  "use strict";
  var palette = ["#1A6FB0", "#2DA44E", "#BF8700", "#CF222E", "#8250DF"];
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var datasets = canvas.dataset.series.split(",").map(function (pair, i) {
      var parts = pair.split(":");
      return {
        label: parts.slice(1).join(":"),
        data: data[parts[0]] || [],
        backgroundColor: palette[i % palette.length],
        borderColor: palette[i % palette.length],
        spanGaps: true
      };
    });
    new Chart(canvas, {
      type: canvas.dataset.chart,
      data: { labels: data[canvas.dataset.labels] || [], datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: datasets.length > 1 } } }
    });
  }
  function start() { document.querySelectorAll("canvas[data-chart]").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
