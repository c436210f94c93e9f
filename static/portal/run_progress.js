/* Live progress of a sync run: poll the run's small JSON endpoint and update the bar; reload when it is done. */
(function () {
  "use strict";
  var panel = document.getElementById("progress-panel");
  if (!panel) { return; }
  var url = panel.getAttribute("data-progress-url");
  var bar = document.getElementById("run-progress");
  var stage = document.getElementById("run-stage");
  var counter = document.getElementById("run-counter");
  var percent = document.getElementById("run-percent");
  var status = document.getElementById("run-status");
  var INTERVAL_MS = 1500;
  var format = new Intl.NumberFormat();

  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    stage.textContent = data.stage;
    counter.textContent = data.progress_total ? format.format(data.progress_done) + " of " + format.format(data.progress_total) : "";
    percent.textContent = data.percent + "%";
    var badge = status && status.querySelector(".badge");
    if (badge) { badge.textContent = data.status_label; }
    panel.querySelectorAll("[data-count]").forEach(function (cell) {
      var value = data[cell.getAttribute("data-count")];
      if (typeof value === "number") { cell.textContent = format.format(value); }
    });
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        show(data);
        // The summary and the change list are rendered by the server, so a finished run reloads the page.
        if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, INTERVAL_MS); }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 2); });
  }

  window.setTimeout(poll, INTERVAL_MS);
}());
