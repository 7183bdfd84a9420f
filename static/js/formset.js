// "Add a line" for inline formsets rendered by templates/_formset_table.html (no inline script).
// The template row's names use __prefix__ (the form's index) and its accessible names
// "… – ligne __num__" (the line's number, from 1).
(function () {
  "use strict";
  document.querySelectorAll("[data-formset]").forEach(function (fieldset) {
    const prefix = fieldset.dataset.formset;
    const total = fieldset.querySelector("#id_" + prefix + "-TOTAL_FORMS");
    const template = fieldset.querySelector("template[data-formset-template]");
    const body = fieldset.querySelector("[data-formset-body]");
    fieldset.querySelector("[data-formset-add]").addEventListener("click", function () {
      const index = Number(total.value);
      const html = template.innerHTML
        .replace(/__prefix__/g, String(index))
        .replace(/__num__/g, String(index + 1));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const first = body.lastElementChild.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  });
})();
