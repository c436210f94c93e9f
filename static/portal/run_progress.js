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
  var elapsed = document.getElementById("run-elapsed");
  var elapsedSeconds = elapsed ? parseInt(elapsed.getAttribute("data-elapsed"), 10) : NaN;
  var INTERVAL_MS = 1500;
  var format = new Intl.NumberFormat();
  var wait = document.getElementById("run-wait");
  var waitMessage = document.getElementById("run-wait-message");

  function inWords(seconds) {
    var whole = Math.max(Math.ceil(seconds || 0), 0);
    var minutes = Math.floor(whole / 60);
    var rest = whole % 60;
    if (!minutes) { return rest + " s"; }
    return minutes + " min" + (rest ? " " + rest + " s" : "");
  }

  function setText(id, text) {
    var element = document.getElementById(id);
    if (element) { element.textContent = text; }
  }

  // What HaloPSA holds the run on ("Waiting for HaloPSA's rate limit: 42 s"), the elapsed time and the totals.
  function showWait(data) {
    if (wait && waitMessage) {
      wait.hidden = !data.wait;
      waitMessage.textContent = data.wait ? data.wait.message : "";
    }
    if (data.elapsed_seconds !== null && data.elapsed_seconds !== undefined) { setText("run-elapsed", inWords(data.elapsed_seconds)); }
    setText("run-waited", inWords(data.waited_seconds));
    setText("run-rate-limited", format.format(data.rate_limited_count));
    setText("run-retries", format.format(data.retry_count));
  }

  // The same words as the server's format_duration: 12 s, 2 min 05 s, 1 h 03 min.
  function duration(seconds) {
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), rest = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (hours) { return hours + " h " + two(minutes) + " min"; }
    if (minutes) { return minutes + " min " + two(rest) + " s"; }
    return rest + " s";
  }

  function tick() {
    if (elapsed && !isNaN(elapsedSeconds)) { elapsedSeconds += 1; elapsed.textContent = duration(elapsedSeconds); }
  }

  function show(data) {
    if (elapsed && typeof data.elapsed_seconds === "number") {
      elapsedSeconds = data.elapsed_seconds;
      elapsed.textContent = duration(elapsedSeconds);
    }
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    stage.textContent = data.stage;
    counter.textContent = data.progress_total ? format.format(data.progress_done) + " of " + format.format(data.progress_total) : "";
    percent.textContent = data.percent + "%";
    var badge = status && status.querySelector(".badge");
    if (badge) { badge.textContent = data.status_label; }
    showWait(data);
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
  window.setInterval(tick, 1000);
}());
