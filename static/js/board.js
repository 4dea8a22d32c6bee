// The pipeline board (templates/leads/includes/board.html). Each card holds a small form that
// posts its new stage with htmx and gets the whole board back; this script adds:
//   - drag and drop (HTML5 drag events): dropping a card on a column picks that stage and posts;
//   - choosing a stage in a card's menu posts at once (the keyboard and one-tap way);
//   - Lost asks first: the card opens its "Why was it lost?" box instead of posting;
//   - a refused move (403/404) puts the card back in its column with the server's message.
(function () {
  "use strict";
  var dragged = null;

  function cardOf(el) { return el && el.closest ? el.closest(".board-card") : null; }
  function columnOf(el) { return el && el.closest ? el.closest(".board-column") : null; }
  function say(text, bad) {
    var box = document.getElementById("board-message");
    if (!box) return;
    box.textContent = text;
    box.className = "board-message alert py-1 px-2 small " + (bad ? "alert-danger" : "alert-success");
  }
  function putBack(card) {
    var home = document.querySelector('.board-column[data-stage="' + card.getAttribute("data-stage") + '"] [data-board-cards]');
    if (home && card.parentNode !== home) home.insertBefore(card, home.firstChild);
    var select = card.querySelector("[data-board-stage]");
    if (select) select.value = card.getAttribute("data-stage");
    var lost = card.querySelector("[data-board-lost]");
    if (lost) lost.hidden = true;
    card.classList.remove("board-pending");
  }
  function choose(card, stage) {
    var form = card.querySelector("form[data-board-move]");
    var select = form.querySelector("[data-board-stage]");
    var lost = form.querySelector("[data-board-lost]");
    select.value = stage;
    if (stage === card.getAttribute("data-stage")) { putBack(card); return; }
    if (stage === "lost") {
      lost.hidden = false;
      lost.querySelector("input").focus();
      return;
    }
    lost.hidden = true;
    card.classList.add("board-pending");
    form.requestSubmit();
  }

  document.addEventListener("dragstart", function (event) {
    var card = cardOf(event.target);
    if (!card) return;
    dragged = card;
    card.classList.add("board-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-lead"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("board-dragging");
    dragged = null;
    document.querySelectorAll(".board-drop-target").forEach(function (c) { c.classList.remove("board-drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("board-drop-target");
  });
  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("board-drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    column.classList.remove("board-drop-target");
    var stage = column.getAttribute("data-stage");
    if (stage !== card.getAttribute("data-stage")) {
      column.querySelector("[data-board-cards]").insertBefore(card, column.querySelector("[data-board-cards]").firstChild);
    }
    choose(card, stage);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-board-stage]")) {
      choose(cardOf(event.target), event.target.value);
    }
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-board-cancel]");
    if (cancel) putBack(cardOf(cancel));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.closest && event.target.closest("[data-board-lost]")) {
      var card = cardOf(event.target);
      putBack(card);
      card.querySelector("[data-board-stage]").focus();
    }
  });
  // A refused move that htmx does not swap (the lead is not yours, or gone): back it goes.
  document.addEventListener("htmx:responseError", function (event) {
    var card = cardOf(event.detail.elt);
    if (!card) return;
    putBack(card);
    var xhr = event.detail.xhr;
    var text = xhr && /text\/plain/.test(xhr.getResponseHeader("Content-Type") || "") ? xhr.responseText : "";
    say(text || "The move was refused; the lead stays where it was.", true);
  });
  document.addEventListener("htmx:sendError", function (event) {
    var card = cardOf(event.detail.elt);
    if (!card) return;
    putBack(card);
    say("The server could not be reached; the lead stays where it was.", true);
  });
})();
