// The creditor's report charts (templates/console/creditor_reports.html), drawn with Chart.js
// (static/vendor/chartjs). The figures and the labels, already in the page's language, come
// from the page's <script type="application/json" id="report-data"> block: the
// Content-Security-Policy allows no inline script. Each chart's figures are also in a table
// below it.
(function () {
  "use strict";

  function start() {
    var block = document.getElementById("report-data");
    if (!block || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(block.textContent);
    // grouping always, as the tables (Babel) write it: 1.000,00 € rather than 1000,00 €
    var money = new Intl.NumberFormat(data.locale, {
      style: "currency",
      currency: "EUR",
      useGrouping: "always",
    });
    var share = new Intl.NumberFormat(data.locale, {
      style: "percent",
      maximumFractionDigits: 1,
    });
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var style = getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = style.color;
    Chart.defaults.locale = data.locale;
    if (reduced) {
      Chart.defaults.animation = false;
    }

    function draw(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) {
        new Chart(canvas, config);
      }
    }

    function bars(series, values, format, options) {
      var config = {
        type: "bar",
        data: {
          labels: series.labels,
          datasets: [{ label: series.label, data: values, backgroundColor: options.color }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: options.indexAxis || "x",
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (item) {
                  return series.label + ": " + format(item.raw);
                },
              },
            },
          },
          scales: {},
        },
      };
      var valueAxis = options.indexAxis === "y" ? "x" : "y";
      config.options.scales[valueAxis] = {
        beginAtZero: true,
        ticks: {
          precision: options.precision,
          callback: function (value) { return format(value); },
        },
      };
      return config;
    }

    draw(
      "chart-recovered",
      bars(
        data.recovered,
        data.recovered.cents.map(function (cents) { return cents / 100; }),
        function (euros) { return money.format(euros); },
        { color: "#1f5f99" }
      )
    );
    draw(
      "chart-statuses",
      bars(
        data.statuses,
        data.statuses.counts,
        function (count) { return String(count); },
        { color: "#4b7d3a", indexAxis: "y", precision: 0 }
      )
    );
    draw(
      "chart-cohorts",
      bars(
        data.cohorts,
        data.cohorts.shares,
        function (ratio) { return ratio === null ? "-" : share.format(ratio); },
        { color: "#8a5a00" }
      )
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
