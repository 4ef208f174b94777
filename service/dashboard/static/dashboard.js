/* perfloop dashboard: draws the charts whose data the server embedded as JSON.
 *
 * Each chart is a <canvas data-chart="KIND" data-source="ID"> next to a
 * <script type="application/json" id="ID"> block. No inline script runs, so the pages work under
 * a strict Content-Security-Policy. Chart.js is vendored (static/vendor/chart.umd.min.js).
 */
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
                 "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

  var SHAPES = ["circle", "triangle", "rect", "crossRot", "rectRot", "star"];

  function colour(i) { return PALETTE[i % PALETTE.length]; }

  function readData(canvas) {
    var node = document.getElementById(canvas.dataset.source);
    return node ? JSON.parse(node.textContent) : null;
  }

  function logAxis(title) {
    return { type: "logarithmic", title: { display: true, text: title } };
  }

  /* Draws each scatter point's 90% interval (its "lo"/"hi") as a thin vertical bar. */
  var intervalBars = {
    id: "perfloopIntervals",
    beforeDatasetsDraw: function (chart) {
      var ctx = chart.ctx, y = chart.scales.y;
      chart.data.datasets.forEach(function (dataset, i) {
        if (dataset.type !== "scatter" || !chart.isDatasetVisible(i)) { return; }
        var meta = chart.getDatasetMeta(i);
        ctx.save();
        ctx.strokeStyle = dataset.borderColor + "66";
        ctx.lineWidth = 1;
        dataset.data.forEach(function (point, j) {
          var element = meta.data[j];
          if (!element || point.lo === undefined || point.hi === undefined) { return; }
          ctx.beginPath();
          ctx.moveTo(element.x, y.getPixelForValue(point.lo));
          ctx.lineTo(element.x, y.getPixelForValue(point.hi));
          ctx.stroke();
        });
        ctx.restore();
      });
    }
  };

  /* Predicted vs measured, log-log, one dataset per model family, y = x and the ±10% band. */
  function scatter(data) {
    var lo = data.range[0], hi = data.range[1];
    var line = function (label, factor, dash) {
      return { type: "line", label: label, data: [{ x: lo, y: lo * factor }, { x: hi, y: hi * factor }],
               borderColor: "#6b7280", borderDash: dash, borderWidth: 1, pointRadius: 0,
               fill: false };
    };
    var datasets = data.series.map(function (s, i) {
      return { type: "scatter", label: s.label, data: s.points, backgroundColor: colour(i) + "b3",
               borderColor: colour(i), pointStyle: SHAPES[i % SHAPES.length], pointRadius: 3.5 };
    });
    datasets.push(line("y = x", 1.0, []), line("+10%", 1.1, [4, 4]), line("-10%", 0.9, [4, 4]));
    return { type: "scatter", data: { datasets: datasets }, plugins: [intervalBars],
             options: { scales: { x: logAxis("measured " + data.unit), y: logAxis("predicted " + data.unit) } } };
  }

  /* Lines over categorical x labels (days), one dataset per series (predictor version). */
  function lines(data) {
    var datasets = data.series.map(function (s, i) {
      return { label: s.label, data: s.values, borderColor: colour(i), backgroundColor: colour(i),
               spanGaps: true, tension: 0.1 };
    });
    return { type: "line", data: { labels: data.labels, datasets: datasets },
             options: { scales: { y: { beginAtZero: true, title: { display: true, text: data.y_title } } } } };
  }

  /* Bars: one or more series over categorical labels. */
  function bars(data) {
    var datasets = data.series.map(function (s, i) {
      return { label: s.label, data: s.values, backgroundColor: colour(i) };
    });
    return { type: "bar", data: { labels: data.labels, datasets: datasets },
             options: { indexAxis: data.horizontal ? "y" : "x",
                        scales: { y: { beginAtZero: true, title: { display: !data.horizontal, text: data.y_title || "" } },
                                  x: { title: { display: !!data.x_title, text: data.x_title || "" } } } } };
  }

  /* Lines over a numeric x axis (the calibration curve); a series may be dashed. */
  function xy(data) {
    var datasets = data.series.map(function (s, i) {
      return { type: "line", label: s.label, data: s.points, borderColor: s.dashed ? "#6b7280" : colour(i),
               backgroundColor: colour(i), borderDash: s.dashed ? [4, 4] : [],
               pointRadius: s.dashed ? 0 : 3, fill: false };
    });
    var axis = function (title) {
      return { type: "linear", min: 0, max: 100, title: { display: true, text: title } };
    };
    return { type: "line", data: { datasets: datasets },
             options: { scales: { x: axis(data.x_title), y: axis(data.y_title) } } };
  }

  var BUILDERS = { scatter: scatter, lines: lines, bars: bars, xy: xy };

  function draw(canvas) {
    var data = readData(canvas);
    var build = BUILDERS[canvas.dataset.chart];
    if (!data || !build) { return false; }
    var config = build(data);
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false },
                                   config.options);
    new window.Chart(canvas, config);
    return true;
  }

  function drawAll() {
    var drawn = 0;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (draw(canvas)) { drawn += 1; }
    });
    document.body.dataset.chartsDrawn = String(drawn);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
