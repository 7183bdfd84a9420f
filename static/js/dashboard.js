// Draws the dashboard's charts from their JSON data (no inline script); a click on a bar or a
// slice opens the filtered list behind it. The same numbers are in the table beside each chart.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
  const number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#ffc107", "#6c757d", "#0dcaf0", "#d63384"];

  document.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
    const source = document.getElementById(canvas.dataset.chartSource);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const format = data.euros ? euros.format : number.format;
    const round = data.type === "doughnut";
    const chart = new Chart(canvas, {
      type: data.type,
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (dataset, index) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: round ? palette : palette[index % palette.length],
          };
        }),
      },
      options: {
        locale: "fr-FR",
        maintainAspectRatio: false,
        indexAxis: round ? undefined : "y",
        scales: round ? {} : { x: { ticks: { callback: function (value) { return format(value); } } } },
        plugins: {
          legend: { display: round || data.datasets.length > 1 },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + " : " + format(item.raw); } } },
        },
        onClick: function (event, elements) {
          if (elements.length && data.urls[elements[0].index]) {
            window.location.href = data.urls[elements[0].index];
          }
        },
      },
    });
    canvas.dataset.chartReady = "true";
    canvas.chart = chart;
  });
})();
