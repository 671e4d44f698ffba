/* Draws the billing pages' charts (cost per day, spend per domain) from the JSON next to each figure. */
"use strict";
(function () {
  var COLOURS = ["#1d5fa6", "#2a9d8f", "#e76f51", "#8a5300", "#6d597a"];

  // frappe-charts writes a tooltip's title as HTML; labels are names tenants choose (domains).
  function escaped(text) {
    var holder = document.createElement("span");
    holder.textContent = text;
    return holder.innerHTML;
  }

  function money(currency) {
    return function (value) { return Number(value).toFixed(2) + " " + currency; };
  }

  function draw(figure) {
    var source = document.getElementById(figure.dataset.billingChart);
    if (!source || !window.frappe) { return; }
    var chart = JSON.parse(source.textContent);
    new window.frappe.Chart(figure, {
      type: "bar",
      height: 260,
      animate: false,
      colors: COLOURS.slice(0, chart.datasets.length),
      barOptions: { stacked: 1, spaceRatio: 0.3 },
      axisOptions: { xAxisMode: "tick", xIsSeries: chart.kind === "cost" },
      tooltipOptions: { formatTooltipX: escaped, formatTooltipY: money(chart.currency) },
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (set) {
          return { name: set.name, values: set.values.map(Number) };
        })
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure[data-billing-chart]").forEach(draw);
  });
})();
