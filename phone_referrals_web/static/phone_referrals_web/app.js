// Progressive enhancements of the web UI; every page works without them.
(function () {
  "use strict";

  // Copy the invite code to the clipboard.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      var done = function () {
        button.textContent = button.getAttribute("data-copied-label") || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else {
        selectText(source);
        try { if (document.execCommand("copy")) done(); } catch (e) { /* text stays selected */ }
      }
    });
  });

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Keep the resend button disabled until the cooldown is over.
  document.querySelectorAll("[data-cooldown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-cooldown"), 10) || 0;
    if (left <= 0) return;
    var form = button.form;
    var note = form && form.querySelector("[data-cooldown-note]");
    var counter = note && note.querySelector("[data-countdown]");
    button.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      if (counter) counter.textContent = String(left);
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        if (note) note.hidden = true;
      }
    }, 1000);
  });

  // A form that waits on the server says so and cannot be sent twice.
  document.querySelectorAll("form[data-busy-label]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) return;
      button.textContent = form.getAttribute("data-busy-label");
      button.setAttribute("aria-disabled", "true");
      form.setAttribute("aria-busy", "true");
      form.addEventListener("submit", function (event) { event.preventDefault(); });
    });
  });
})();
