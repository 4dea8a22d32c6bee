// Small trend charts on the review dashboard and the rep page: one Chart.js line per
// <canvas class="sparkline" data-values="1,2,null,...">, labelled by the table's data-buckets.
// Drawn when scrolled into view, so a 100-rep table does not build 500 charts at once.
(function () {
  "use strict";

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") {
      return;
    }
    canvas.dataset.drawn = "1";
    var holder = canvas.closest("[data-buckets]");
    var labels = holder ? holder.dataset.buckets.split("|") : [];
    var values = canvas.dataset.values.split(",").map(function (v) {
      return v === "null" || v === "None" ? null : Number(v);
    });
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels.length === values.length ? labels : values.map(function (_, i) { return String(i + 1); }),
        datasets: [{ data: values, borderWidth: 1.5, pointRadius: 0, spanGaps: true, tension: 0.2 }],
      },
      options: {
        responsive: false,
        animation: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true, intersect: false } },
        scales: { x: { display: false }, y: { display: false } },
      },
    });
  }

  function start() {
    var canvases = document.querySelectorAll("canvas.sparkline");
    if (!("IntersectionObserver" in window)) {
      canvases.forEach(draw);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          draw(entry.target);
          observer.unobserve(entry.target);
        }
      });
    });
    canvases.forEach(function (canvas) { observer.observe(canvas); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
