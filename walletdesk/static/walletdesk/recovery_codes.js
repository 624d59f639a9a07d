// "Copy codes" on the 2FA recovery-codes page (mfa/recovery_codes/index.html). A file, not an
// inline script: the CSP allows scripts from our origin only. The button stays hidden when
// the browser has no clipboard API (plain http other than localhost): download still works.
(function () {
  "use strict";
  var button = document.getElementById("copy-recovery-codes");
  var list = document.getElementById("recovery-codes");
  if (!button || !list || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
      return c.textContent.trim();
    });
    navigator.clipboard.writeText(codes.join("\n") + "\n").then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
