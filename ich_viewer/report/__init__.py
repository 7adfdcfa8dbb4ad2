"""The PDF report (reportlab). Import is lazy so that the viewer starts without reportlab."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ich_viewer.report.pdf import build_report, render_report

__all__ = ["build_report", "render_report"]


def __getattr__(name: str):
    if name in __all__:
        from ich_viewer.report import pdf

        return getattr(pdf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
