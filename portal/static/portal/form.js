// Inspector's form: autosave a moment after each change, and move each evidence picker into its
// point's box (the pickers are separate forms so a file never rides along with a draft save).
// Before an evidence upload leaves the page, pending changes are saved first.
(function () {
  var form = document.getElementById("judgments");
  var status = document.getElementById("autosave");
  var version = document.getElementById("version");
  var timer = null, dirty = {}, pending = null;

  document.querySelectorAll("form.evidence-form").forEach(function (f) {
    var box = document.getElementById(f.dataset.for);
    if (box) { box.insertBefore(f, box.querySelector("button.secondary")); }
    f.addEventListener("submit", function (e) {
      if (!form || !form.dataset.autosave) return;
      e.preventDefault();
      clearTimeout(timer);
      save().then(function () { f.submit(); });
    });
  });
  if (!form || !form.dataset.autosave) return;

  function csrf() { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }
  function collect(name) {
    var parts = name.split("-"), field = parts.shift(), code = parts.join("-");
    var el = form.querySelector("[name='" + name + "']:checked") || form.querySelector("textarea[name='" + name + "']");
    dirty[code] = dirty[code] || {};
    dirty[code][field] = el ? el.value : "";
  }
  function save() {
    if (pending) return pending.then(save);
    if (!Object.keys(dirty).length) return Promise.resolve();
    var answers = dirty; dirty = {};
    pending = fetch(form.dataset.autosave, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ version: parseInt(version.value, 10), answers: answers })
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok) { version.value = res.body.version; status.textContent = "已自动保存 " + new Date().toLocaleTimeString("zh-CN"); status.className = "muted"; }
        else { status.textContent = res.body.error; status.className = "error"; }
      })
      .catch(function () { status.textContent = "自动保存失败，请检查网络后点击“保存草稿”。"; status.className = "error"; })
      .then(function () { pending = null; });
    return pending;
  }
  function changed(e) {
    if (!/^(level|comment)-/.test(e.target.name || "")) return;  // not the evidence pickers
    collect(e.target.name);
    clearTimeout(timer); timer = setTimeout(save, 1200);
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA") changed(e); });
  form.addEventListener("submit", function () { clearTimeout(timer); });
})();
