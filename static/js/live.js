// Live parts of a page, toasts and the quick-log keyboard, declared in markup (no inline script: CSP).
//
//   <el id="..." data-live-url="/..." data-etag="...">  polled every 30 s while the tab is visible,
//       with If-None-Match: the server answers 304 Not Modified (nothing swapped) or the element's
//       new markup (swapped in place, outerHTML). An element with a field in focus or an open
//       form ([data-live-hold]) is skipped that round so a poll never eats what someone types.
//   <template data-toast>  in any swapped-in or loaded markup: shown as a Bootstrap toast in #toasts.
//   #bell[data-unread]     the unread count, also put in the tab title: "(3) My day · Accountability".
//   form[data-quick-log]   opening focuses its first field; Esc (or its Cancel button) puts the
//       row's "Log" button back (the markup kept in its <template data-quick-log-restore>);
//       Enter on a menu submits like Enter in a text field.
(function () {
  "use strict";
  var INTERVAL = 30000;
  var etags = {};
  var lastPoll = Date.now();
  var stopped = false;
  var baseTitle = document.title.replace(/^\(\d+\)\s+/, "");

  function setTitle() {
    var bell = document.getElementById("bell");
    if (!bell) return;
    var unread = parseInt(bell.getAttribute("data-unread") || "0", 10);
    document.title = (unread > 0 ? "(" + unread + ") " : "") + baseTitle;
  }

  function showToasts(root) {
    var container = document.getElementById("toasts");
    if (!container || !root.querySelectorAll) return;
    var templates = root.matches && root.matches("template[data-toast]") ? [root] : root.querySelectorAll("template[data-toast]");
    Array.prototype.forEach.call(templates, function (tpl) {
      var toast = tpl.content.firstElementChild.cloneNode(true);
      tpl.parentNode.removeChild(tpl);
      container.appendChild(toast);
      if (window.htmx) window.htmx.process(toast);
      if (window.bootstrap) {
        toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
        new window.bootstrap.Toast(toast, { delay: 10000 }).show(); // data-bs-autohide=false wins
      } else {
        toast.classList.add("show");
      }
    });
  }

  // Someone typing or choosing in the element (or a form in it marked data-live-hold, such as
  // an open quick log): this round leaves it alone.
  function held(el) {
    var active = document.activeElement;
    var typing = active && el.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    return typing || el.querySelector("[data-live-hold]") !== null;
  }

  function poll(el) {
    var url = el.getAttribute("data-live-url");
    if (!url || !el.id || held(el)) return;
    var etag = etags[el.id] || el.getAttribute("data-etag");
    var headers = etag ? { "If-None-Match": etag } : {};
    window.htmx.ajax("GET", url, { source: el, target: el, swap: "outerHTML", headers: headers });
  }

  function pollAll() {
    if (stopped || document.hidden || !window.htmx) return;
    lastPoll = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-url]"), poll);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // A 304 keeps what the page shows; htmx would otherwise swap its empty body in.
    window.htmx.config.responseHandling.unshift({ code: "304", swap: false });
    window.htmx.onLoad(function (el) {
      showToasts(el);
      setTitle();
      focusQuickLog(el);
    });
    setInterval(pollAll, INTERVAL);
  });

  // A tab coming back after a while asks at once instead of waiting for the next round.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && Date.now() - lastPoll >= INTERVAL) pollAll();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var el = event.detail.elt;
    if (!xhr || !el || !el.id || !el.hasAttribute("data-live-url")) return;
    if (xhr.status === 401) stopped = true; // signed out: stop asking
    var etag = xhr.getResponseHeader("ETag");
    if (etag) etags[el.id] = etag;
  });

  // For tests and for the curious: run a round now.
  window.accountabilityLive = { pollNow: pollAll };

  // --- quick log keyboard ---------------------------------------------------------------
  function focusQuickLog(el) {
    var form = el.matches && el.matches("form[data-quick-log]") ? el : null;
    if (!form) return;
    var first = form.querySelector("select, input:not([type=hidden]), textarea");
    if (first) first.focus();
  }

  function closeQuickLog(form) {
    var tpl = form.querySelector("template[data-quick-log-restore]");
    if (!tpl) return;
    var button = tpl.content.firstElementChild.cloneNode(true);
    form.replaceWith(button);
    if (window.htmx) window.htmx.process(button);
    button.focus();
  }

  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("form[data-quick-log]");
    if (!form) return;
    if (event.key === "Escape") {
      event.preventDefault();
      closeQuickLog(form);
    } else if (event.key === "Enter" && event.target.tagName === "SELECT") {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-quick-log-cancel]");
    if (cancel) {
      event.preventDefault();
      closeQuickLog(cancel.closest("form[data-quick-log]"));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document.body);
    setTitle();
  });
})();
