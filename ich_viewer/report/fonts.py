"""The report's typeface: DejaVu Sans, shipped in resources/fonts and embedded in every PDF.

Embedding (rather than relying on PDF base fonts) makes the report look the
same on any reader and printer, and DejaVu covers ², ×, – and accented names.
"""

from __future__ import annotations

import functools

from ich_viewer import paths

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}


@functools.cache
def register_fonts() -> None:
    """Register the fonts with reportlab once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = paths.resources_dir() / "fonts"
    for name, file_name in _FILES.items():
        path = folder / file_name
        if not path.is_file():
            raise FileNotFoundError(f"Report font missing: {path}. Reinstall ICH Viewer.")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # No oblique face is shipped: italic markup falls back to the upright face.
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
