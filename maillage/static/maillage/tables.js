// A table wider than a phone scrolls inside its DSFR wrapper: give it keyboard access (tabindex), so
// that keyboard users can scroll it too (axe: scrollable-region-focusable). Checked on load, on resize
// and after every htmx swap.
(function () {
  "use strict";
  function focusScrollableTables(root) {
    (root || document).querySelectorAll(".fr-table table, table.fr-table").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1 || table.scrollHeight > table.clientHeight + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { focusScrollableTables(document); });
  window.addEventListener("load", function () { focusScrollableTables(document); });
  window.addEventListener("resize", function () { focusScrollableTables(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusScrollableTables(event.target); });
})();
