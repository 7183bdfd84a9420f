// The error summary of a refused form (templates/_error_summary.html): focused when the page
// loads, so the page lands on it; each link focuses the field it names. Loaded by every summary,
// so it sets itself up once.
(function () {
  "use strict";
  if (window.errorSummaryReady) return;
  window.errorSummaryReady = true;

  const CONTROL =
    "[data-checkbox-filter-item] input, input:not([type=hidden]):not([type=search]), select, textarea";

  function focusSummary() {
    const summary = document.querySelector("[data-error-summary]:not([data-error-summary-seen])");
    if (!summary) return;
    summary.dataset.errorSummarySeen = "true";
    // At the top of the window, the fields it lists below it.
    summary.scrollIntoView({ block: "start", behavior: "instant" });
    summary.focus({ preventScroll: true });
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    const control = target.matches(CONTROL) ? target : target.querySelector(CONTROL);
    if (!control) return;
    event.preventDefault();
    const details = control.closest("details");
    if (details) details.open = true;
    const fieldset = control.closest("fieldset");
    const legend = fieldset && fieldset.querySelector("legend");
    // A box of a checkbox list is shown with the list's legend, not its own label.
    const label = control.closest("[data-checkbox-filter]")
      ? legend
      : (control.id && document.querySelector('label[for="' + control.id + '"]')) || legend;
    // Show the field with its label or legend, as a person reads it.
    (label || control).scrollIntoView({ block: "start", behavior: "instant" });
    control.focus({ preventScroll: true });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
  document.addEventListener("htmx:load", focusSummary);
})();
