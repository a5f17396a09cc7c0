/* koppeling dashboard behaviour. No inline scripts or handlers (a strict CSP works): everything
   is wired here from data- attributes. Every page works without it; this only makes it nicer. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // a select that submits its form when changed (language, filters marked data-autosubmit)
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    if (el.matches && el.matches("[data-select-all]")) {
      var scope = document.querySelector(el.getAttribute("data-select-all"));
      if (scope) scope.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (box) { box.checked = el.checked; });
    }
  });

  // buttons that ask first (data-confirm="text"); the server checks again either way
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function drawCharts(root) {
    if (!window.Chart) return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) return;
      var data = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [{ label: canvas.getAttribute("data-label") || "", data: data.values, backgroundColor: "#1d4ed8" }]
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  onReady(function () {
    drawCharts(document);
    document.querySelectorAll(".no-js-only").forEach(function (el) { el.hidden = true; });
  });
  // a row whose order is done (booked) says so for a moment, then leaves the list (Fouten)
  function leaveLater(root) {
    var rows = [];
    if (root.matches && root.matches("[data-leaves]")) rows.push(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-leaves]").forEach(function (row) { rows.push(row); });
    rows.forEach(function (row) {
      if (row.dataset.leaving) return;
      row.dataset.leaving = "1";
      window.setTimeout(function () {
        row.classList.add("leaving");
        window.setTimeout(function () { row.remove(); }, 400);
      }, parseInt(row.getAttribute("data-leaves"), 10) || 3000);
    });
  }

  document.addEventListener("htmx:load", function (event) { leaveLater(event.target); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
