// depgraph audit report: sort the dependents by a column, filter them by risk, role and text.
(function () {
  "use strict";
  var table = document.getElementById("dependents-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var risk = document.getElementById("risk-filter");
  var role = document.getElementById("role-filter");
  var text = document.getElementById("text-filter");
  var count = document.getElementById("shown-count");

  function cellValue(row, column, numeric) {
    var cell = row.cells[column];
    var value = cell.getAttribute("data-value");
    if (value === null) { value = cell.textContent.trim().toLowerCase(); }
    return numeric ? parseFloat(value) || 0 : value;
  }

  function sortBy(header) {
    var column = header.cellIndex;
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = cellValue(a, column, numeric), y = cellValue(b, column, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function filter() {
    var shown = 0, needle = text.value.trim().toLowerCase();
    rows.forEach(function (row) {
      var visible = (!risk.value || row.getAttribute("data-risk") === risk.value) &&
        (!role.value || row.getAttribute("data-role") === role.value) &&
        (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  [risk, role].forEach(function (select) { select.addEventListener("change", filter); });
  text.addEventListener("input", filter);
  filter();
})();
