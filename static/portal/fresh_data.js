/* A customer's page stays fresh: poll its small state endpoint and reload when a sync or webhook changed it. */
(function () {
  "use strict";
  var holder = document.getElementById("fresh-data");
  if (!holder) { return; }
  var url = holder.getAttribute("data-state-url");
  var version = holder.getAttribute("data-version");
  var PENDING_MS = 1000;   // a person's "Sync from HaloPSA" is on its way: show its outcome promptly
  var IDLE_MS = 3000;      // otherwise a webhook may change the customer at any time
  var pending = !!document.getElementById("sync-pending");

  function editing() {
    // Never throw away what a person is typing into the edit form.
    var active = document.activeElement;
    return active && active.form && active.form.classList.contains("field-form");
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var changed = data.version !== version || (pending && !data.pending);
        if (changed && !editing()) { window.location.reload(); return; }
        pending = data.pending;
        window.setTimeout(poll, pending ? PENDING_MS : IDLE_MS);
      })
      .catch(function () { window.setTimeout(poll, IDLE_MS * 2); });
  }

  window.setTimeout(poll, pending ? PENDING_MS : IDLE_MS);
}());
