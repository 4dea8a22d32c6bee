// The action bar for selected leads (templates/leads/includes/bulk_bar.html).
//   <input type="checkbox" data-bulk-item form="bulk-form">  one per lead row
//   <input type="checkbox" data-bulk-all>                   ticks every row on the page
//   [data-bulk-count]                                       how many are ticked
//   [data-bulk-for="reassign|stage|lost"]                   fields shown for the chosen action
// Without this script every field shows and the server checks the form the same way.
(function () {
  "use strict";
  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-item]"));
  }
  function refresh() {
    var form = document.querySelector("form[data-bulk-form]");
    if (!form) return;
    var all = items();
    var ticked = all.filter(function (el) { return el.checked; }).length;
    var count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = String(ticked);
    var submit = form.querySelector("[data-bulk-submit]");
    if (submit) submit.disabled = ticked === 0;
    document.querySelectorAll("input[data-bulk-all]").forEach(function (box) {
      box.checked = all.length > 0 && ticked === all.length;
      box.indeterminate = ticked > 0 && ticked < all.length;
    });
    var action = form.querySelector("[data-bulk-action]");
    var stage = form.querySelector("[data-bulk-stage]");
    var chosen = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      var what = el.getAttribute("data-bulk-for");
      var show = what === chosen || (what === "lost" && chosen === "stage" && stage && stage.value === "lost");
      el.hidden = !show;
    });
    if (submit) submit.textContent = chosen === "export" ? "Export selected" : "Apply to selected";
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el.matches) return;
    if (el.matches("input[data-bulk-all]")) {
      items().forEach(function (box) { box.checked = el.checked; });
      refresh();
    } else if (el.matches("input[data-bulk-item], [data-bulk-action], [data-bulk-stage]")) {
      refresh();
    }
  });
  // After an export (a download, the page stays) the selection stays ticked on purpose.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
  window.addEventListener("pageshow", refresh);
})();
