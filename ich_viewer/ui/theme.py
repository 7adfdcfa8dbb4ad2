"""The reading-room look: a dark frame around the image, and the toolbar's icons.

A bright grey frame around a black CT image is glaring in a darkened reading
room, so the viewer is dark by default (Fusion style with a dark palette, as
Weasis and Horos are).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

DARK = {
    QPalette.ColorRole.Window: "#262626",
    QPalette.ColorRole.WindowText: "#dcdcdc",
    QPalette.ColorRole.Base: "#1b1b1b",
    QPalette.ColorRole.AlternateBase: "#2c2c2c",
    QPalette.ColorRole.ToolTipBase: "#333333",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#dcdcdc",
    QPalette.ColorRole.Button: "#303030",
    QPalette.ColorRole.ButtonText: "#dcdcdc",
    QPalette.ColorRole.BrightText: "#ff6060",
    QPalette.ColorRole.Link: "#6fa8ff",
    QPalette.ColorRole.Highlight: "#3d6fb4",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8a8a8a",
}
DISABLED_TEXT = "#6e6e6e"
ICON_SIZE = 20


def reading_room_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return palette


def apply_reading_room_theme(app: QApplication) -> None:
    """Fusion (the same on every platform, and it honours the palette) with the dark palette."""
    if app.property("ich_reading_room_theme"):
        return
    app.setStyle("Fusion")
    app.setPalette(reading_room_palette())
    app.setProperty("ich_reading_room_theme", True)


def _drawn_icon(draw) -> QIcon:
    pixmap = QPixmap(ICON_SIZE * 2, ICON_SIZE * 2)  # drawn at twice the size: sharp on HiDPI too
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor("#dcdcdc"), 3)
    painter.setPen(pen)
    draw(painter, ICON_SIZE * 2)
    painter.end()
    return QIcon(pixmap)


def _fit(p: QPainter, s: int) -> None:
    m, c = 6, 12
    for x, y, dx, dy in ((m, m, 1, 1), (s - m, m, -1, 1), (m, s - m, 1, -1), (s - m, s - m, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + dx * c, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + dy * c))


def _overlay(p: QPainter, s: int) -> None:
    p.setBrush(QColor(230, 40, 40, 160))
    p.drawEllipse(QRectF(8, 8, s - 16, s - 16))


def _brush(p: QPainter, s: int) -> None:
    p.setBrush(QColor("#ffd24d"))
    p.drawEllipse(QRectF(s * 0.3, s * 0.3, s * 0.4, s * 0.4))


def _eraser(p: QPainter, s: int) -> None:
    p.drawRect(QRectF(s * 0.25, s * 0.3, s * 0.5, s * 0.4))
    p.drawLine(QPointF(s * 0.45, s * 0.3), QPointF(s * 0.45, s * 0.7))


def _ruler(p: QPainter, s: int) -> None:
    p.drawLine(QPointF(6, s - 6), QPointF(s - 6, 6))
    for t in (0.3, 0.5, 0.7):
        x, y = 6 + t * (s - 12), s - 6 - t * (s - 12)
        p.drawLine(QPointF(x - 3, y - 3), QPointF(x + 3, y + 3))


def _ellipse(p: QPainter, s: int) -> None:
    p.setPen(QPen(QColor(80, 220, 255), 3))
    p.drawEllipse(QRectF(5, 10, s - 10, s - 20))


def _midline(p: QPainter, s: int) -> None:
    """A vertical falx line and the septum's offset from it."""
    p.setPen(QPen(QColor(80, 220, 255), 3))
    p.drawLine(QPointF(s / 2 - 2, 5), QPointF(s / 2 - 2, s - 5))
    p.drawLine(QPointF(s / 2 - 2, s / 2), QPointF(s - 8, s / 2))
    p.drawEllipse(QPointF(s - 8, s / 2), 2.5, 2.5)


# The icons drawn here, by the name the action table (actions.py) gives them.
DRAWN_ICONS = {"fit": _fit, "overlay": _overlay, "brush": _brush, "eraser": _eraser,
               "ruler": _ruler, "ellipse": _ellipse, "midline": _midline}


def toolbar_icon(name: str, style: QStyle) -> QIcon | None:
    """The icon of that name: drawn here, or a QStyle standard pixmap ("SP_..."); None for none."""
    if name in DRAWN_ICONS:
        return _drawn_icon(DRAWN_ICONS[name])
    if name.startswith("SP_"):
        return style.standardIcon(getattr(QStyle.StandardPixmap, name))
    return None
