/* Draws each <figure data-metrics-url> as a line chart of the series it names, from the metrics JSON.
   The figure's data-state tells what happened: loading, drawn, empty or failed. */
"use strict";
(function () {
  function timeLabel(seconds) {
    return new Date(seconds * 1000).toISOString().slice(11, 16);
  }

  function chartData(data, names) {
    // Times where none of the wanted series has a value are left out rather than drawn as zero.
    var kept = data.timestamps
      .map(function (_, i) { return i; })
      .filter(function (i) { return names.some(function (n) { return data.series[n][i] !== null; }); });
    return {
      labels: kept.map(function (i) { return timeLabel(data.timestamps[i]); }),
      datasets: names.map(function (name) {
        return { name: name, values: kept.map(function (i) { return data.series[name][i] || 0; }) };
      })
    };
  }

  function show(figure, state, text) {
    figure.dataset.state = state;
    if (text) { figure.textContent = text; }
  }

  function draw(figure) {
    var names = (figure.dataset.metricsSeries || "cpu_millicores").split(",");
    fetch(figure.dataset.metricsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (data) {
        var shown = chartData(data, names);
        if (!shown.labels.length) { show(figure, "empty", "No samples yet."); return; }
        new window.frappe.Chart(figure, {
          type: "line",
          height: 220,
          animate: false,
          colors: ["#1d5fa6", "#c0632b", "#2f855a"],
          axisOptions: { xAxisMode: "tick", xIsSeries: true },
          lineOptions: { hideDots: 1, regionFill: 1 },
          data: shown
        });
        figure.dataset.source = data.source;
        show(figure, "drawn");
      })
      .catch(function () { show(figure, "failed", "The chart could not be loaded."); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.frappe) { return; }
    document.querySelectorAll("figure[data-metrics-url]").forEach(draw);
  });
})();
