// Keyboard moves in the data-entry grid: arrow keys and Enter go from cell to cell like a
// spreadsheet. Left/Right move only when the caret is at the edge of the text, so editing a
// value still works; Enter moves down (Shift+Enter up) instead of submitting the form.
(function () {
  "use strict";
  function cell(form, row, col) {
    return form.querySelector('tr[data-row="' + row + '"] input[data-col="' + col + '"]');
  }
  function atEdge(input, end) {
    try {
      var start = input.selectionStart, stop = input.selectionEnd;
      if (start === 0 && stop === input.value.length) return true; // whole value selected
      return end ? stop === input.value.length : start === 0;
    } catch (e) {
      return true;
    }
  }
  function onKey(event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-col]")) return;
    var tr = input.closest("tr[data-row]");
    if (!tr) return;
    var row = Number(tr.dataset.row), col = Number(input.dataset.col);
    var target = null;
    if (event.key === "ArrowUp" || (event.key === "Enter" && event.shiftKey)) {
      target = cell(this, row - 1, col);
    } else if (event.key === "ArrowDown" || event.key === "Enter") {
      target = cell(this, row + 1, col);
    } else if (event.key === "ArrowLeft" && atEdge(input, false)) {
      target = cell(this, row, col - 1);
    } else if (event.key === "ArrowRight" && atEdge(input, true)) {
      target = cell(this, row, col + 1);
    } else {
      return;
    }
    if (event.key === "Enter") event.preventDefault();
    if (target) {
      event.preventDefault();
      target.focus();
      target.select();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-entry-grid]").forEach(function (form) {
      form.addEventListener("keydown", onKey);
    });
  });
})();
