// Polls an upload's status while a worker checks or saves it, then reloads the page.
(function () {
  var bar = document.getElementById("progress");
  if (!bar) return;
  function poll() {
    fetch(bar.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        if (s.status === "queued" || s.status === "running") { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
