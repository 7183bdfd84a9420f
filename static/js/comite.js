// Committee page: as voted amounts are typed, recompute each funder's voted total and
// remaining envelope (envelopes table and the remainders bar above the grid), and mark the
// rows a person changed (the server records only those, and checks everything again).
(function () {
  "use strict";
  var table = document.querySelector("[data-comite]");
  if (!table) return;
  var currency = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
  // A negative remainder gets a real minus sign (U+2212), not the hyphen Intl gives.
  var euros = { format: function (value) { return currency.format(value).replace(/^-/, "\u2212"); } };
  var counter = document.querySelector("[data-changed-count]");

  function parse(text) {
    var cleaned = String(text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(/EUR$/i, "");
    if (cleaned.indexOf(",") >= 0 && cleaned.indexOf(".") >= 0) cleaned = cleaned.replace(/\./g, "");
    cleaned = cleaned.replace(",", ".");
    var value = parseFloat(cleaned);
    return isFinite(value) ? value : 0;
  }

  function decisionOf(input) {
    var row = input.closest("[data-dossier]");
    var select = row ? row.querySelector("select[name^='sens_']") : null;
    return select ? select.value : "";
  }

  function changed(row) {
    var fields = row.querySelectorAll("input:not([type=hidden]), select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.tagName === "SELECT") {
        var option = field.options[field.selectedIndex];
        var initial = Array.prototype.some.call(field.options, function (o) { return o.defaultSelected; });
        if (option && (initial ? !option.defaultSelected : field.selectedIndex !== 0)) return true;
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function refresh() {
    var delta = {};
    table.querySelectorAll("[data-vote-input]").forEach(function (input) {
      var funder = input.dataset.financeur;
      var saved = input.dataset.refused ? 0 : parse(input.dataset.saved);
      var decision = decisionOf(input);
      if (!decision) return; // a row left undecided changes nothing (as on the server)
      var typed = decision === "refuse" || decision === "ajourne" ? 0 : parse(input.value);
      delta[funder] = (delta[funder] || 0) + typed - saved;
    });
    document.querySelectorAll("[data-enveloppes] tr[data-financeur]").forEach(function (row) {
      var vote = parse(row.dataset.vote) + (delta[row.dataset.financeur] || 0);
      var voteCell = row.querySelector("[data-vote-cell]");
      var resteCell = row.querySelector("[data-reste-cell]");
      if (voteCell) voteCell.textContent = euros.format(vote);
      if (row.dataset.enveloppe !== "" && resteCell) {
        var reste = parse(row.dataset.enveloppe) - vote;
        resteCell.textContent = euros.format(reste) + (reste < 0 ? " – dépassée" : "");
        row.classList.toggle("table-danger", reste < 0);
      }
    });
    document.querySelectorAll("[data-reste-badge]").forEach(function (badge) {
      var reste = parse(badge.dataset.enveloppe) - parse(badge.dataset.vote) - (delta[badge.dataset.financeur] || 0);
      badge.querySelector("[data-reste-text]").textContent = euros.format(reste) + (reste < 0 ? " – dépassée" : "");
      badge.classList.toggle("text-danger", reste < 0);
      badge.classList.toggle("fw-semibold", reste < 0);
    });
    var count = 0;
    table.querySelectorAll("tr[data-dossier]").forEach(function (row) {
      var isChanged = changed(row);
      row.classList.toggle("comite-modifie", isChanged);
      var label = row.querySelector("[data-changed-label]");
      if (label) label.textContent = isChanged ? "Ligne modifiée" : "";
      if (isChanged) count++;
    });
    if (counter) {
      counter.textContent = count === 0 ? "Aucune ligne modifiée." :
        count === 1 ? "1 ligne modifiée sera enregistrée." : count + " lignes modifiées seront enregistrées.";
    }
  }

  // Editing a row brings the whole grid into view, so its header (funders and remainders)
  // stays visible above the row being edited.
  var grid = table.closest(".comite-grille");
  function showGrid() {
    if (!grid) return;
    var top = grid.getBoundingClientRect().top;
    if (top < 0) window.scrollBy(0, top);
  }
  table.addEventListener("focusin", showGrid);
  table.addEventListener("change", showGrid);
  table.addEventListener("input", refresh);
  table.addEventListener("change", refresh);
  refresh();
})();
