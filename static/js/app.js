// Site-wide behaviour declared in markup, so no template needs an inline script or on*= handler
// (the Content-Security-Policy allows scripts from our static files only).
//   <select data-autosubmit>     submits its form when changed (team pickers)
//   <button data-print>          opens the browser's print dialog
//   <form data-confirm="...">    asks before submitting (destructive actions)
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-print]");
    if (el) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
