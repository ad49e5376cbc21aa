// Enclave's only script besides htmx. It is loaded as a file (the CSP allows no
// inline script) and configures htmx once for every page.
(function () {
  // htmx 2 does not swap 4xx answers by default; validation fragments come back
  // as 422 and must replace the form so the errors show next to the fields.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "409", swap: true },
    { code: "401", swap: true },
    { code: "429", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
  // The CSP forbids inline styles from scripts; indicator styles live in app.css.
  htmx.config.includeIndicatorStyles = false;
  htmx.config.allowEval = false;

  // Every htmx request carries the CSRF token as a header too.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // A button with data-copy="<input id>" copies that input's value, e.g. a
  // fresh invite link. Without JavaScript the read-only field is selectable.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
      }, function () {});
    }
  });

  // A save's notice (?saved=…, see handlers/saved.go) shows once: the
  // address drops the parameter, so a reload or a bookmark does not repeat it.
  var here = new URL(window.location.href);
  if (here.searchParams.has("saved")) {
    here.searchParams.delete("saved");
    history.replaceState(history.state, "", here.pathname + here.search + here.hash);
  }

  // A failed htmx request (403, 404, 500...) is reported in the page banner
  // instead of being dropped silently.
  document.addEventListener("htmx:responseError", function (e) {
    var box = document.getElementById("flash-error");
    if (!box) return;
    var status = e.detail.xhr.status;
    box.textContent = status === 403
      ? "You are not allowed to do that, or your session expired. Reload the page and try again."
      : "The request failed (" + status + "). Reload the page and try again.";
    box.hidden = false;
  });
})();
