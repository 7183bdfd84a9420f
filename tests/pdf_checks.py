"""A generated PDF is tagged (PDF/UA-1): structure tree, language and title, read with pikepdf."""

import io
from pathlib import Path

import pikepdf


def assert_tagged_pdf(source: bytes | str | Path, *, lang: str = "fr") -> None:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root, "PDF non balisé : pas de /StructTreeRoot"
        assert str(root.get("/Lang", "")) == lang, f"langue du PDF : {root.get('/Lang')!r}"
        assert bool(root.MarkInfo.Marked), "PDF non marqué (/MarkInfo /Marked)"
        title = str(pdf.open_metadata().get("dc:title", "") or pdf.docinfo.get("/Title", ""))
        assert title.strip(), "PDF sans titre"
