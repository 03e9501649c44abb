// Dialtone console: progressive enhancement only. Every page works as plain
// forms; this file adds live updates (EventSource), upload progress, audio
// previews and the API Explorer. No framework, nothing from other hosts.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf || "";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Account switcher and confirmations.
  $all("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Delegated, so that forms in refreshed fragments (a call's hang-up)
  // ask too.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.matches && f.matches("form[data-confirm]") && !window.confirm(f.dataset.confirm)) { e.preventDefault(); }
  });

  // Narrow screens show table rows as cards whose cells name their column
  // (data-label); the templates set the labels, this fills in any missing
  // one from the table's header.
  function labelCells(root) {
    $all("table", root).forEach(function (t) {
      var heads = $all("thead th", t).map(function (th) { return th.textContent.trim(); });
      if (!heads.length) { return; }
      $all("tbody tr", t).forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (cell.tagName === "TD" && cell.colSpan === 1 && !cell.hasAttribute("data-label") && heads[col] !== undefined) {
            cell.setAttribute("data-label", heads[col]);
          }
          col += cell.colSpan || 1;
        });
      });
    });
  }
  labelCells(document);

  // Live talk time: a talking call's duration counts on in the page from
  // the server's figures (data-since: talk start, data-now: render time,
  // both unix ms), so the browser's own clock may be off.
  function tickTalk() {
    var now = Date.now();
    $all("[data-since]").forEach(function (el) {
      if (!el.dataset.seen) { el.dataset.seen = String(now); }
      var ms = Number(el.dataset.now) - Number(el.dataset.since) + (now - Number(el.dataset.seen));
      el.textContent = Math.max(0, Math.floor(ms / 1000)) + " s";
    });
  }
  if ($("[data-since], [data-live-rows], [data-live-detail]")) {
    tickTalk();
    setInterval(tickTalk, 500);
  }

  // TTS template preview: the engine's WAV plays in place.
  $all("form[data-preview]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var audio = $("audio", f), problem = $(".field-error", f);
      var q = new URLSearchParams(new FormData(f)).toString();
      problem.hidden = true;
      // Fetched first, so that a refusal is shown as the server's words
      // rather than as an empty player.
      fetch(f.action + "?" + q, { credentials: "same-origin" }).then(function (resp) {
        if (!resp.ok) {
          return resp.text().then(function (t) { throw new Error(t.trim() || ("HTTP " + resp.status)); });
        }
        return resp.blob();
      }).then(function (wav) {
        if (audio.src) { URL.revokeObjectURL(audio.src); }
        audio.hidden = false;
        audio.src = URL.createObjectURL(wav);
        audio.play().catch(function () { /* autoplay may be refused; the controls remain */ });
      }).catch(function (err) {
        audio.hidden = true;
        problem.textContent = err.message;
        problem.hidden = false;
      });
    });
  });

  // Voice file upload with a progress bar (XHR upload events).
  $all("form[data-upload]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var bar = $("progress", f), status = $("#vf-status", f) || $("[role=status]", f);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", f.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) {
          var pct = Math.round(ev.loaded * 100 / ev.total);
          bar.value = pct; bar.textContent = pct + "%";
          status.textContent = "Uploading… " + pct + "%";
        }
      });
      xhr.addEventListener("load", function () {
        var res = {};
        try { res = JSON.parse(xhr.responseText); } catch (err) { res = { error: xhr.responseText }; }
        if (xhr.status === 200) {
          bar.value = 100;
          status.textContent = "Uploaded " + res.code + " (" + res.format + ", " + res.duration + "). 上传成功";
          status.dataset.done = res.code;
          setTimeout(function () { window.location.reload(); }, 600);
        } else {
          status.textContent = "Upload failed: " + (res.error || xhr.status);
        }
      });
      xhr.addEventListener("error", function () { status.textContent = "Upload failed: network error."; });
      xhr.send(new FormData(f));
    });
  });

  // Live updates over Server-Sent Events.
  var rowsTable = $("[data-live-rows]"), detail = $("[data-live-detail]");
  if ($("[data-live]") || rowsTable || detail) {
    var url = "/console/events" + (detail ? "?call=" + encodeURIComponent(detail.dataset.watch) : "");
    var es = new EventSource(url);
    // refresher fetches a fragment and puts it in place; a change that
    // comes while a fetch is in flight asks for one more fetch after it
    // (that fetch may have read the store before the change), never none.
    var refresher = function (src, place) {
      var busy = false, again = false;
      return function refresh() {
        if (busy) { again = true; return; }
        busy = true; again = false;
        fetch(src(), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(place)
          .catch(function () {})
          .finally(function () { busy = false; if (again) { refresh(); } });
      };
    };
    var refreshRows = rowsTable && refresher(function () {
      var src = rowsTable.dataset.liveRows;
      return src + (src.indexOf("?") < 0 ? "?" : "&") + "fragment=rows";
    }, function (html) {
      var old = $("#calls-rows");
      if (old) { old.outerHTML = html; labelCells(rowsTable); tickTalk(); }
    });
    var refreshDetail = detail && refresher(function () { return detail.dataset.liveDetail; },
      function (html) { detail.innerHTML = html; labelCells(detail); tickTalk(); });
    // The stream reports changes from its first look at the store on; what
    // changed between rendering this page and that look is caught by one
    // refresh on the first update.
    var synced = false;
    es.addEventListener("update", function (ev) {
      var u = JSON.parse(ev.data);
      $all("[data-live=account]").forEach(function (el) { el.textContent = u.live; });
      if (u.node_live !== undefined) {
        $all("[data-live=node]").forEach(function (el) { el.textContent = u.node_live; });
      }
      var changes = u.changes || [], first = !synced;
      synced = true;
      if (refreshRows && (first || changes.length)) { refreshRows(); }
      if (refreshDetail && (first || changes.some(function (c) { return c.id === detail.dataset.watch; }))) {
        refreshDetail();
      }
    });
    // A reconnected stream starts afresh: resynchronise on its first update.
    es.addEventListener("open", function () { synced = false; });
    window.addEventListener("beforeunload", function () { es.close(); });
  }

  // API Explorer.
  var ex = $("#explorer");
  if (!ex) { return; }
  var actions = JSON.parse(ex.dataset.actions);
  var sel = $("#ex-action"), form = $("#ex-form"), problems = $("#ex-problems");
  var current = null; // the snippet tab shown

  function def() {
    for (var i = 0; i < actions.length; i++) { if (actions[i].Name === sel.value) { return actions[i]; } }
    return null;
  }
  function field(action, name) { return document.getElementById("ex-" + action + "-" + name); }
  function showAction() {
    var d = def();
    $all("fieldset.ex-params").forEach(function (fs) {
      var on = fs.dataset.action === sel.value;
      fs.hidden = !on; fs.disabled = !on;
    });
    $("#ex-summary").textContent = d ? d.Summary : "";
  }
  sel.addEventListener("change", function () { showAction(); refreshCode(); });
  showAction();

  // check mirrors the server's validate() in explorer.go.
  function check(p, v) {
    if (v === "") { return p.Required ? p.Name + " is required." : ""; }
    var n = Array.from(v).length;
    if ((p.MaxLen > 0 && n > p.MaxLen) || n < p.MinLen) {
      return p.MinLen > 0 ? p.Name + " has " + p.MinLen + " to " + p.MaxLen + " characters." : p.Name + " has at most " + p.MaxLen + " characters.";
    }
    if (p.Enum && p.Enum.length && p.Enum.indexOf(v) < 0) { return p.Name + " must be one of " + p.Enum.join(", ") + "."; }
    switch (p.Type) {
      case "int32": case "int64":
        if (!/^-?[0-9]+$/.test(v)) { return p.Name + " must be a whole number."; }
        if (p.HasRange && (Number(v) < p.Min || Number(v) > p.Max)) { return p.Name + " must be between " + p.Min + " and " + p.Max + "."; }
        break;
      case "float64":
        if (isNaN(Number(v))) { return p.Name + " must be a number."; }
        break;
      case "bool":
        if (v !== "true" && v !== "false") { return p.Name + " must be true or false."; }
        break;
      case "json":
        try { var o = JSON.parse(v); if (!o || typeof o !== "object" || Array.isArray(o)) { throw 0; } }
        catch (e) { return p.Name + " must be a JSON object, e.g. {\"code\":\"1234\"}."; }
        break;
      case "menumap":
        try { var a = JSON.parse(v); if (!Array.isArray(a) || a.length < 1 || a.length > 15) { throw 0; } }
        catch (e) { return p.Name + " must be a JSON array of 1 to 15 items like {\"Key\":\"1\",\"Code\":\"TTS_100001\"}."; }
        break;
    }
    return "";
  }

  // collect reads the form; with mark it also shows each field's problem.
  function collect(mark) {
    var d = def(), params = {}, errs = [];
    d.Params.forEach(function (p) {
      var el = field(d.Name, p.Name);
      var v = el.value.trim();
      var msg = check(p, v);
      if (mark) {
        document.getElementById("err-" + d.Name + "-" + p.Name).textContent = msg;
        el.setAttribute("aria-invalid", msg ? "true" : "false");
      }
      if (msg) { errs.push({ el: el, msg: msg }); }
      if (v !== "") { params[p.Name] = v; }
    });
    return { body: { action: d.Name, key: $("#ex-key").value, params: params }, errs: errs };
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function showProblems(list) {
    problems.hidden = !list || !list.length;
    problems.textContent = list && list.length ? list.join(" ") : "";
  }

  // Snippet tabs: the panels are on the page from the start (install
  // lines included); the code comes from /console/explorer/code.
  var tabs = $all("#ex-code [role=tab]");
  function showTab(id) {
    current = id;
    tabs.forEach(function (t) {
      var on = t.dataset.snippet === id;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
    });
    $all("#ex-code .ex-snippet").forEach(function (p) { p.hidden = p.dataset.snippet !== id; });
  }
  tabs.forEach(function (t, i) {
    t.addEventListener("click", function () { showTab(t.dataset.snippet); });
    t.addEventListener("keydown", function (e) {
      var step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) { return; }
      var next = tabs[(i + step + tabs.length) % tabs.length];
      showTab(next.dataset.snippet); next.focus(); e.preventDefault();
    });
  });
  if (tabs.length) { showTab(tabs[0].dataset.snippet); }

  function showSnippets(res) {
    if (!res.snippets) { return; }
    res.snippets.forEach(function (s) {
      var code = document.getElementById("ex-code-" + s.id);
      if (code) { code.textContent = s.code; }
      var inst = document.getElementById("ex-install-" + s.id);
      if (inst && s.install) { inst.textContent = s.install; }
    });
    ex.dataset.codeFor = res.snippets.length ? sel.value : "";
  }

  // The code follows the form: a short pause after the last change, and
  // an answer that comes after a newer request is dropped.
  var codeTimer = 0, codeSeq = 0;
  function refreshCode() {
    clearTimeout(codeTimer);
    codeTimer = setTimeout(function () {
      var seq = ++codeSeq;
      ex.dataset.codeState = "loading";
      post("/console/explorer/code", collect(false).body).then(function (res) {
        if (seq !== codeSeq) { return; }
        showSnippets(res);
        ex.dataset.codeState = "ready";
      }).catch(function () { ex.dataset.codeState = "failed"; });
    }, 250);
  }
  form.addEventListener("input", refreshCode);
  form.addEventListener("change", refreshCode);

  // Picking a value fills in what follows from it: a template's variables
  // (unless the user wrote their own), a call's ProdId and date.
  function pickedOption(el) {
    var list = el.list;
    if (!list) { return null; }
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === el.value) { return list.options[i]; }
    }
    return null;
  }
  var follows = { TtsCode: "TtsParam", StartCode: "StartTtsParams", ByeCode: "ByeTtsParams" };
  $all("#ex-form input[data-pick]").forEach(function (el) {
    el.addEventListener("input", function () {
      var opt = pickedOption(el), fs = el.closest("fieldset"), action = fs.dataset.action;
      if (!opt) { return; }
      var name = el.dataset.param;
      if (follows[name]) {
        var vars = field(action, follows[name]);
        // Only a value the page put there is replaced.
        if (vars && (vars.value === "" || vars.value === vars.dataset.auto)) {
          vars.value = opt.dataset.vars || "";
          vars.dataset.auto = vars.value;
        }
      }
      if (name === "CallId" && opt.dataset.prod) {
        var prod = field(action, "ProdId"), date = field(action, "QueryDate");
        if (prod) { prod.value = opt.dataset.prod; }
        if (date) { date.value = opt.dataset.date; }
      }
    });
  });

  // Copy buttons: the Clipboard API where the page may use it; otherwise
  // the text is selected for Ctrl+C.
  $all("#explorer .ex-copy").forEach(function (b) {
    var label = b.textContent;
    b.addEventListener("click", function () {
      var src = document.getElementById(b.dataset.copy), text = src.textContent;
      function done(msg) {
        b.textContent = msg; b.dataset.copied = "true";
        setTimeout(function () { b.textContent = label; delete b.dataset.copied; }, 1500);
      }
      function selectIt() {
        var r = document.createRange(); r.selectNodeContents(src);
        var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
        done("Selected: press Ctrl+C");
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done("Copied"); }, selectIt);
      } else {
        selectIt();
      }
    });
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var c = collect(true);
    if (c.errs.length) { showProblems(c.errs.map(function (x) { return x.msg; })); c.errs[0].el.focus(); return; }
    if (!c.body.key) { showProblems(["Choose an AccessKey."]); return; }
    showProblems([]);
    $("#ex-send").disabled = true;
    $("#ex-response").textContent = "Sending…";
    post("/console/explorer/send", c.body).then(function (res) {
      showProblems(res.problems || (res.error ? [res.error] : []));
      $("#ex-request").textContent = res.request || "";
      $("#ex-response").textContent = res.response || "";
      showSnippets(res);
    }).catch(function (err) {
      showProblems(["The console did not answer: " + err]);
    }).finally(function () { $("#ex-send").disabled = false; });
  });
  $("#ex-code-btn").addEventListener("click", function () {
    var c = collect(true);
    showProblems(c.errs.map(function (x) { return x.msg; }));
    post("/console/explorer/code", c.body).then(showSnippets);
  });
  refreshCode();
})();
