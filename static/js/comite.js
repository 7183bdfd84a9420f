// Committee page: as voted amounts are typed, recompute each funder's voted total and
// remaining envelope in the envelopes table (the server checks again when saving).
(function () {
  "use strict";
  var table = document.querySelector("[data-comite]");
  var envelopes = document.querySelector("[data-enveloppes]");
  if (!table || !envelopes) return;
  var euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

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

  function refresh() {
    var delta = {};
    table.querySelectorAll("[data-vote-input]").forEach(function (input) {
      var funder = input.dataset.financeur;
      var saved = input.dataset.refused ? 0 : parse(input.dataset.saved);
      var decision = decisionOf(input);
      var typed = decision === "refuse" || decision === "ajourne" ? 0 : parse(input.value);
      delta[funder] = (delta[funder] || 0) + typed - saved;
    });
    envelopes.querySelectorAll("tr[data-financeur]").forEach(function (row) {
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
  }

  table.addEventListener("input", refresh);
  table.addEventListener("change", refresh);
  refresh();
})();
