// Wide tables become a card per row on a phone (CSS in static/css/app.css, below 768 px).
//   <table data-cards>  each body cell gets data-label = its column's header text, which the CSS
//   shows beside the value; the row's first cell (the rep) heads the card. Cells spanning several
//   columns (a "nobody yet" row) keep no label. The templates only add the attribute.
(function () {
  "use strict";
  function label(table) {
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) return;
    var names = [];
    Array.prototype.forEach.call(headRow.cells, function (th) {
      var text = th.textContent.replace(/\s+/g, " ").replace(/[▲▼↑↓]/g, "").trim();
      for (var i = 0; i < (th.colSpan || 1); i++) names.push(text);
    });
    var bodies = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) bodies.push(table.tFoot);
    bodies.forEach(function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.colSpan === 1 && names[col] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[col]);
          col += cell.colSpan || 1;
        });
      });
    });
  }
  function labelAll(root) {
    var tables = root.matches && root.matches("table[data-cards]") ? [root] : root.querySelectorAll("table[data-cards]");
    Array.prototype.forEach.call(tables, label);
  }
  document.addEventListener("DOMContentLoaded", function () {
    labelAll(document);
    // Tables or rows swapped in later by htmx get their labels too.
    document.addEventListener("htmx:load", function (event) {
      var table = event.target.closest ? event.target.closest("table[data-cards]") : null;
      labelAll(table || event.target);
    });
  });
})();
