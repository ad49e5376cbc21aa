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

  // A form sent twice makes two things, so while a form (or an hx-post
  // button or link) is being sent its submit buttons are disabled and a
  // second request from it is dropped (a search or a page link is not held
  // back: reading twice is harmless). They come back when the answer is in,
  // unless the answer sends the browser elsewhere; the server refuses a
  // second copy of a create form anyway, by its one-time token.
  var BUSY = "data-busy";
  var HELD = "data-held-by-busy";

  function submitButtons(elt) {
    if (elt.tagName === "BUTTON") return [elt];
    if (elt.tagName !== "FORM") return [];
    return Array.prototype.slice.call(
      elt.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]'));
  }

  function setBusy(elt, busy) {
    if (!elt || !elt.setAttribute || elt.hasAttribute(BUSY) === busy) return;
    if (busy) {
      elt.setAttribute(BUSY, "");
      elt.setAttribute("aria-busy", "true");
      if (elt.tagName === "A") elt.setAttribute("aria-disabled", "true");
      submitButtons(elt).forEach(function (b) {
        if (!b.disabled) {
          b.disabled = true;
          b.setAttribute(HELD, "");
        }
      });
      return;
    }
    elt.removeAttribute(BUSY);
    elt.removeAttribute("aria-busy");
    if (elt.tagName === "A") elt.removeAttribute("aria-disabled");
    elt.querySelectorAll("[" + HELD + "]").forEach(release);
    if (elt.hasAttribute(HELD)) release(elt);
  }

  function release(b) {
    b.disabled = false;
    b.removeAttribute(HELD);
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (e.detail.requestConfig && e.detail.requestConfig.verb === "get") return; // reading twice is harmless
    if (elt.hasAttribute(BUSY)) {
      e.preventDefault(); // a second click, queued by htmx behind the first
      return;
    }
    setBusy(elt, true);
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    // htmx answers HX-Redirect before it sets detail.successful, so the header
    // alone decides: releasing here would let a click queued behind this
    // request go out while the browser is already leaving.
    var xhr = e.detail.xhr;
    if (xhr && xhr.status < 400 && xhr.getResponseHeader("HX-Redirect")) return;
    setBusy(e.detail.elt, false);
  });

  // A plain form (no htmx) is disabled once the browser has taken its
  // values (a disabled submitter would not be sent), and a second submit
  // (Enter in a field) is dropped.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || (form.method || "").toLowerCase() !== "post") return; // htmx sends it, or it only reads
    if (form.hasAttribute(BUSY)) {
      e.preventDefault();
      return;
    }
    setTimeout(function () { setBusy(form, true); }, 0);
  });

  // Back to a page from the history cache: its forms can be sent again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    document.querySelectorAll("[" + BUSY + "]").forEach(function (elt) { setBusy(elt, false); });
  });

  // A failed htmx request (403, 404, 500...) is reported in the page banner
  // instead of being dropped silently, with the server's own explanation
  // (the message of its error page) when it gave one.
  function showError(message) {
    var box = document.getElementById("flash-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function serverMessage(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") !== 0 || !xhr.responseText) return "";
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var el = doc.querySelector('[data-testid="error-message"]');
    return el ? el.textContent.trim() : "";
  }

  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var status = xhr.status;
    showError(serverMessage(xhr) || (status === 403
      ? "You are not allowed to do that, or your session expired. Reload the page and try again."
      : "The request failed (" + status + "). Reload the page and try again."));
  });

  document.addEventListener("htmx:sendError", function () {
    showError("The server could not be reached. Check your connection, then try again.");
  });
})();
