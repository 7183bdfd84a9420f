// Checkbox lists of core.widgets.CheckboxFilterList: a filter box, a "n sélectionnés" count
// and a "sélection seule" switch. Loaded once per list, so each list is set up only once.
(function () {
  "use strict";

  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function plural(count, word) {
    return count + " " + word + (count > 1 ? "s" : "");
  }

  function setUpMenu(root) {
    const menu = root.querySelector("[data-checkbox-filter-menu]");
    if (!menu) return;
    const summary = menu.querySelector("[data-checkbox-filter-summary]");
    const boxes = Array.from(root.querySelectorAll("[data-checkbox-filter-item] input"));
    // Same wording as core.widgets.summary_text.
    root.addEventListener("change", function () {
      const selected = boxes.filter(function (box) { return box.checked; }).map(function (box) {
        return box.labels[0].textContent.trim();
      });
      if (!selected.length) summary.textContent = "Tous";
      else if (selected.length <= 2) summary.textContent = selected.join(", ");
      else summary.textContent = plural(selected.length, "sélectionné");
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open && !event.defaultPrevented) {
        menu.open = false;
        summary.focus();
      }
    });
  }

  function setUp(root) {
    if (root.dataset.checkboxFilterReady) return;
    root.dataset.checkboxFilterReady = "true";
    setUpMenu(root);
    const bar = root.querySelector("[data-checkbox-filter-bar]");
    if (!bar) return;
    const input = root.querySelector("[data-checkbox-filter-input]");
    const selectedOnly = root.querySelector("[data-checkbox-filter-selected-only]");
    const count = root.querySelector("[data-checkbox-filter-count]");
    const empty = root.querySelector("[data-checkbox-filter-empty]");
    const items = Array.from(root.querySelectorAll("[data-checkbox-filter-item]")).map(function (item) {
      return { item: item, box: item.querySelector("input"), text: normalise(item.textContent) };
    });
    const groups = root.querySelectorAll("[data-checkbox-filter-group]");

    function update() {
      const words = normalise(input.value).split(/\s+/).filter(Boolean);
      let shown = 0;
      let selected = 0;
      items.forEach(function (entry) {
        if (entry.box.checked) selected += 1;
        const match =
          words.every(function (word) { return entry.text.includes(word); }) &&
          (!selectedOnly.checked || entry.box.checked);
        // Hidden boxes stay in the form: a ticked one is still sent.
        entry.item.hidden = !match;
        if (match) shown += 1;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-checkbox-filter-item]:not([hidden])");
      });
      empty.hidden = shown > 0;
      let text = plural(selected, "sélectionné");
      if (shown < items.length) text += " · " + shown + " sur " + items.length + " affichés";
      count.textContent = text;
    }

    input.addEventListener("input", update);
    input.addEventListener("keydown", function (event) {
      // Enter in the filter box must not submit the whole form.
      if (event.key === "Enter") event.preventDefault();
      if (event.key === "Escape" && input.value) {
        event.preventDefault();
        input.value = "";
        update();
      }
    });
    selectedOnly.addEventListener("change", update);
    root.addEventListener("change", function (event) {
      if (event.target !== selectedOnly) update();
    });
    bar.hidden = false;
    update();
  }

  function setUpAll() {
    document.querySelectorAll("[data-checkbox-filter]").forEach(setUp);
  }

  setUpAll();
  document.addEventListener("htmx:load", setUpAll);
})();
