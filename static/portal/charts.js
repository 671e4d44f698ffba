/* Draws the charts of a page from JSON data next to them; no inline script needed. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart-source]").forEach(function (figure) {
    var source = document.getElementById(figure.dataset.chartSource);
    if (!source || !window.frappe) { return; }
    var data = JSON.parse(source.textContent);
    new window.frappe.Chart(figure, {
      type: "bar",
      height: 240,
      animate: false,
      colors: ["#1d5fa6"],
      axisOptions: { xAxisMode: "tick", xIsSeries: false },
      barOptions: { spaceRatio: 0.4 },
      tooltipOptions: { formatTooltipY: function (value) { return value + "%"; } },
      data: { labels: data.labels, datasets: [{ name: "Used", values: data.values }],
              yMarkers: [{ label: "limit", value: 100 }] }
    });
  });
});
