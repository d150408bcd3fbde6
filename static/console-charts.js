// The creditor's report charts (templates/console/creditor_reports.html), drawn with Chart.js
// (static/vendor/chartjs). The figures and the labels, already in the page's language, come
// from the page's <script type="application/json" id="report-data"> block: the
// Content-Security-Policy allows no inline script. Each chart's figures are also in a table
// below it. The experiments' liquidation charts (templates/console/_experiment_results.html,
// on the reports and on the admin's experiment page) carry theirs in the canvas's data-chart
// attribute, one line per arm, their table beside them.
(function () {
  "use strict";

  var COLORS = ["#1f5f99", "#b3471d", "#4b7d3a", "#8a5a00", "#6b3fa0", "#00707a"];

  function setup(locale) {
    var style = getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = style.color;
    Chart.defaults.locale = locale;
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      Chart.defaults.animation = false;
    }
  }

  function liquidation(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    setup(data.locale);
    var share = new Intl.NumberFormat(data.locale, {
      style: "percent",
      maximumFractionDigits: 1,
    });
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.arms.map(function (arm, i) {
          return {
            label: arm.label,
            data: arm.rates,
            borderColor: COLORS[i % COLORS.length],
            backgroundColor: COLORS[i % COLORS.length],
            spanGaps: false,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + (item.raw === null ? "-" : share.format(item.raw));
              },
            },
          },
        },
        scales: {
          y: {
            beginAtZero: true,
            title: { display: true, text: data.label },
            ticks: { callback: function (value) { return share.format(value); } },
          },
        },
      },
    });
  }

  function start() {
    if (typeof Chart === "undefined") {
      return;
    }
    var canvases = document.querySelectorAll("canvas.liquidation-chart[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      liquidation(canvases[i]);
    }
    var block = document.getElementById("report-data");
    if (!block) {
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
    setup(data.locale);

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
