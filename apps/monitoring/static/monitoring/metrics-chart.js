/* Draws each chart of the page (monitoring/chart.html) as lines, from the JSON beside it.
   The figure's data-state tells what happened: drawn, or failed (the tables beside it stay). */
"use strict";
(function () {
  function draw(figure) {
    var drawing = figure.querySelector(".chart-drawing");
    var source = drawing && document.getElementById(drawing.dataset.chartData);
    if (!source || !window.frappe) { figure.dataset.state = "failed"; return; }
    var data = JSON.parse(source.textContent);
    new window.frappe.Chart(drawing, {
      type: "line",
      height: 200,
      animate: false,
      colors: ["#1d5fa6", "#c0632b", "#2f855a"],
      axisOptions: { xAxisMode: "tick", xIsSeries: true },
      lineOptions: { hideDots: 1, regionFill: 1 },
      tooltipOptions: { formatTooltipY: function (value) { return value + " " + data.unit; } },
      data: { labels: data.labels, datasets: data.datasets }
    });
    figure.dataset.state = "drawn";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure.metrics-chart[data-state=loading]").forEach(draw);
  });
})();
