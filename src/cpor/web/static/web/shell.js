// A table wider than the screen scrolls inside its .table-responsive box: make that box
// reachable by keyboard (and named by the table's caption) so it can be scrolled too.
(function () {
  function mark() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.hasAttribute("tabindex")) return;
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption");
      var heading = caption ? caption.textContent.trim() : "";
      if (heading) box.setAttribute("aria-label", heading);
    });
  }
  mark();
  document.addEventListener("htmx:afterSettle", mark);
})();
