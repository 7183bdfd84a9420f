// Draws the diagnosis chart of a QPV or commune page from its JSON data (no inline script).
(function () {
  "use strict";
  const canvas = document.querySelector("canvas[data-chart-source]");
  if (!canvas || typeof Chart === "undefined") return;
  const series = JSON.parse(document.getElementById(canvas.dataset.chartSource).textContent);
  const select = document.querySelector('[data-chart-select="' + canvas.id + '"]');
  const number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });

  function dataset(entry) {
    return {
      labels: entry.years.map(String),
      datasets: [{
        label: entry.label + (entry.unit ? " (" + entry.unit + ")" : ""),
        data: entry.values,
        borderColor: "#0d6efd",
        backgroundColor: "rgba(13, 110, 253, 0.15)",
        fill: true,
        tension: 0.2,
      }],
    };
  }

  const chart = new Chart(canvas, {
    type: "line",
    data: dataset(series[0]),
    options: {
      locale: "fr-FR",
      maintainAspectRatio: false,
      scales: { y: { ticks: { callback: (value) => number.format(value) } } },
      plugins: { legend: { display: true } },
    },
  });
  canvas.dataset.chartReady = "true";

  if (select) {
    select.addEventListener("change", function () {
      chart.data = dataset(series[Number(select.value)]);
      chart.update();
    });
  }
})();
