"""A journey map as a file: PDF drawn by WeasyPrint from the printable page, and PNG rendered from
that PDF by PDFium (pypdfium2 ships its own build, so no system package is needed)."""

from __future__ import annotations

from io import BytesIO

import pypdfium2
from weasyprint import HTML

PNG_SCALE = 2  # 144 dpi: sharp on screens and in slides


def map_pdf(html: str) -> bytes:
    return HTML(string=html).write_pdf()


def map_png(html: str) -> bytes:
    """The first page of the PDF (the map is laid out on one page) as a PNG."""
    document = pypdfium2.PdfDocument(map_pdf(html))
    try:
        image = document[0].render(scale=PNG_SCALE).to_pil()
        out = BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    finally:
        document.close()
