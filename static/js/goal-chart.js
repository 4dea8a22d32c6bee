// The goal page's progress chart: actual against the expected line, from the JSON the page embeds
// in <script type="application/json" id="goal-chart-data"> (data, not code, so the CSP allows it).
(function () {
  "use strict";
  var source = document.getElementById("goal-chart-data");
  var canvas = document.getElementById("goal-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        {label: "Actual (" + data.unit + ")", data: data.actual, borderColor: "#0d6efd", tension: 0.2, spanGaps: true},
        {label: "Expected by then", data: data.expected, borderColor: "#adb5bd", borderDash: [6, 4], pointRadius: 0},
      ],
    },
    options: {animation: false, scales: {y: {beginAtZero: true, suggestedMax: data.target}}},
  });
})();
