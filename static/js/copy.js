// <button data-copy="#id"> copies the value (or text) of the element #id to the clipboard and says so
// on the button for two seconds. The field stays selectable for browsers without the clipboard API.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var label = button.textContent;
    var done = function (message) {
      button.textContent = message;
      button.setAttribute("data-copied", message === "Copied" ? "yes" : "no");
      window.setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (source.select) source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, function () { done("Press Ctrl+C"); });
    } else {
      done("Press Ctrl+C");
    }
  });
})();
