"""core.editable: the HTML of a PDF template written as a Word document, read back."""

import io

from docx import Document

from core.editable import html_to_docx

HTML = """<!doctype html><html lang="fr"><head><title>Essai</title><style>p { color: red }</style>
</head><body>
<div class="entete-gauche"><strong>PMA</strong> – direction cohésion sociale</div>
<div class="entete-droite">Édité le 4 décembre 2026</div>
<div class="pied-gauche">Pied de page</div>
<section class="couverture"><div>Pays de Montbéliard</div><h1>Rapport annuel</h1></section>
<h2>Une partie</h2>
<p class="decale"><strong>Les Buis</strong><br>1 rue des Jardins</p>
<p>Texte <em>important</em>   sur
 plusieurs   lignes, <a href="https://exemple.fr">un lien</a>.</p>
<ul><li>Un</li><li>Deux <strong>en gras</strong></li></ul>
<ol><li>Premier</li></ol>
<table><thead><tr><th>Financeur</th><th>Montant</th></tr></thead>
<tbody><tr><td>État</td><td>1 000,00 €</td></tr><tr><th colspan="2">Total 1 000,00 €</th></tr></tbody>
</table></body></html>"""


def test_headings_paragraphs_lists_tables_and_running_texts():
    document = Document(io.BytesIO(html_to_docx(HTML)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs == [
        ("Normal", "Pays de Montbéliard"),
        ("Title", "Rapport annuel"),
        ("Heading 2", "Une partie"),
        ("Normal", "Les Buis\n1 rue des Jardins"),
        ("Normal", "Texte important sur plusieurs lignes, un lien."),
        ("List Bullet", "Un"),
        ("List Bullet", "Deux en gras"),
        ("List Number", "Premier"),
    ]
    runs = document.paragraphs[4].runs
    assert [(r.text, r.italic) for r in runs][1] == ("important", True)
    assert document.paragraphs[3].runs[0].bold  # the address's name
    table = document.tables[0]
    assert [c.text for c in table.rows[1].cells] == ["État", "1 000,00 €"]
    total = table.rows[2].cells
    assert total[0]._tc is total[1]._tc and total[0].text == "Total 1 000,00 €"  # merged
    section = document.sections[0]
    assert section.header.paragraphs[0].text == (
        "PMA – direction cohésion sociale – Édité le 4 décembre 2026"
    )
    assert section.footer.paragraphs[0].text == "Pied de page"
    assert document.core_properties.title == "Essai"
    assert document.core_properties.language == "fr"
    assert "color" not in " ".join(p.text for p in document.paragraphs)  # no stylesheet text
