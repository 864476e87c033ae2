// Behaviour of the claim pages (wizard and detail), kept out of the HTML so the
// Content-Security-Policy allows no inline script.
(function () {
  // A double-clicked submit sends one request (the server lands or refuses a repeat anyway).
  // data-submit-once="save" limits it to the button named "save" (the wizard's review step).
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    var only = form.dataset.submitOnce;
    form.addEventListener("submit", function (event) {
      if (only && event.submitter && event.submitter.name !== only) return;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });

  // A form with data-confirm asks before it is sent (deleting a draft).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Drag-and-drop onto the zone fills the plain file input it wraps.
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("bg-body-secondary"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("bg-body-secondary"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
  });

  // The wizard's unit step: a filter over the list of units, shown only with JavaScript.
  var box = document.querySelector("[data-js-only]"), search = document.getElementById("unit-search");
  if (box && search) {
    box.hidden = false;
    search.addEventListener("input", function () {
      var term = search.value.trim().toLowerCase();
      document.querySelectorAll("#unit-options [data-label]").forEach(function (option) {
        option.hidden = term && option.dataset.label.indexOf(term) === -1;
      });
    });
  }
})();
