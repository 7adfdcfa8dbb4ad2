"""On-image annotations: orientation letters at the edges, four-corner text, a scale bar.

Labels are children of the slice view's viewport, not scene items: they stay
put and keep their size while the image zooms and pans, and they never take
a mouse click from the image.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QWidget

from ich_viewer.analysis.annotations import corner_text, orientation_letters, scale_bar_mm

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
EDGES = ("left", "right", "top", "bottom")
MARGIN = 6
TEXT_STYLE = "color: #e8e8e8; background: transparent; font-size: 9pt;"
# Orientation letters larger and yellow, as in Weasis: a laterality is the one thing not to misread.
LETTER_STYLE = "color: #ffd24d; background: transparent; font-size: 13pt; font-weight: bold;"
SCALE_BAR_MAX_FRACTION = 0.25  # of the viewport width
SCALE_BAR_HEIGHT = 28


def _overlay_label(parent: QWidget, style: str, alignment: Qt.AlignmentFlag) -> QLabel:
    label = QLabel(parent)
    label.setStyleSheet(style)
    label.setAlignment(alignment)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return label


class ScaleBar(QWidget):
    """A horizontal bar of a round length in mm, drawn at the image's current scale."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.length_mm: float | None = None
        self.length_px = 0.0

    def set_length(self, length_mm: float | None, length_px: float) -> None:
        self.length_mm, self.length_px = length_mm, length_px
        self.setVisible(length_mm is not None)
        self.update()

    def paintEvent(self, event) -> None:
        if self.length_mm is None:
            return
        painter = QPainter(self)
        painter.setPen(QPen(QColor("#e8e8e8"), 2))
        x0, x1, y = 2.0, 2.0 + self.length_px, self.height() - 6.0
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        for x in (x0, x1):
            painter.drawLine(QPointF(x, y - 5), QPointF(x, y))
        text = f"{self.length_mm / 10:g} cm" if self.length_mm >= 10 else f"{self.length_mm:g} mm"
        painter.drawText(QPointF(x0, y - 8), text)


class ImageAnnotations(QObject):
    """Keeps the annotations of a SliceView up to date with its slice, window and zoom."""

    def __init__(self, view) -> None:
        super().__init__(view)
        self._view = view
        viewport = view.graphics.viewport()
        self._viewport = viewport
        top, bottom = Qt.AlignmentFlag.AlignTop, Qt.AlignmentFlag.AlignBottom
        left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
        self.corners = {
            "top_left": _overlay_label(viewport, TEXT_STYLE, top | left),
            "top_right": _overlay_label(viewport, TEXT_STYLE, top | right),
            "bottom_left": _overlay_label(viewport, TEXT_STYLE, bottom | left),
            "bottom_right": _overlay_label(viewport, TEXT_STYLE, bottom | right),
        }
        self.letters = {edge: _overlay_label(viewport, LETTER_STYLE, Qt.AlignmentFlag.AlignCenter)
                        for edge in EDGES}
        self.scale_bar = ScaleBar(viewport)
        self.corner_shown = dict.fromkeys(CORNERS, True)
        self.shown = True
        self.anonymise = False
        viewport.installEventFilter(self)
        view.slice_changed.connect(self.refresh)
        view.window_changed.connect(self.refresh)
        view.view_box.sigRangeChanged.connect(self.refresh)
        self.refresh()

    # -- the reader's switches ---------------------------------------------------------------
    def toggle_corner(self, corner: str) -> None:
        self.corner_shown[corner] = not self.corner_shown[corner]
        self.refresh()

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        self.refresh()

    def set_anonymise(self, anonymise: bool) -> None:
        self.anonymise = anonymise
        self.refresh()

    # -- drawing -----------------------------------------------------------------------------
    def zoom(self) -> float:
        """Screen pixels per image pixel (1.0: one CT pixel on one screen pixel)."""
        px_w = self._view.view_box.viewPixelSize()[0]
        image_px = self._view.image_item.mapRectToParent(self._view.image_item.boundingRect()).width()
        columns = self._view.study.voxels.shape[2] if self._view.study is not None else 0
        if px_w <= 0 or not columns:
            return 1.0
        return (image_px / columns) / px_w

    def refresh(self, *_args) -> None:
        study, z = self._view.study, self._view.slice_index
        on_image = self.shown and study is not None and 0 <= z < study.n_slices
        if on_image:
            text = corner_text(study, z, self._view.window, self.zoom(), self.anonymise)
            for corner, label in self.corners.items():
                label.setText("\n".join(getattr(text, corner)))
        for corner, label in self.corners.items():
            label.setVisible(on_image and self.corner_shown[corner])
        letters = orientation_letters(study.geometry.orientation) if on_image and study.geometry else None
        for edge, label in self.letters.items():
            label.setText(getattr(letters, edge) if letters else "")
            label.setVisible(letters is not None)
        self._place_scale_bar(on_image and study.spacing_mm is not None)
        self._lay_out()

    def _place_scale_bar(self, known: bool) -> None:
        mm_per_px = self._view.view_box.viewPixelSize()[0] if known else 0.0
        max_px = self._viewport.width() * SCALE_BAR_MAX_FRACTION
        length = scale_bar_mm(mm_per_px, max_px) if known else None
        self.scale_bar.set_length(length, length / mm_per_px if length else 0.0)

    def _lay_out(self) -> None:
        w, h = self._viewport.width(), self._viewport.height()
        half_w, half_h = max(w // 2 - MARGIN, 1), max(h // 2 - MARGIN, 1)
        places = {"top_left": (MARGIN, MARGIN), "top_right": (w - MARGIN - half_w, MARGIN),
                  "bottom_left": (MARGIN, h - MARGIN - half_h),
                  "bottom_right": (w - MARGIN - half_w, h - MARGIN - half_h)}
        for corner, (x, y) in places.items():
            self.corners[corner].setGeometry(x, y, half_w, half_h)
        size = 30
        self.letters["left"].setGeometry(MARGIN, h // 2 - size // 2, size, size)
        self.letters["right"].setGeometry(w - MARGIN - size, h // 2 - size // 2, size, size)
        self.letters["top"].setGeometry(w // 2 - size // 2, MARGIN, size, size)
        self.letters["bottom"].setGeometry(w // 2 - size // 2, h - MARGIN - size, size, size)
        bar_w = int(self.scale_bar.length_px) + 60
        # Bottom centre, beside the bottom letter, clear of the two bottom corners' text.
        self.scale_bar.setGeometry(w // 2 + size, h - MARGIN - SCALE_BAR_HEIGHT, bar_w, SCALE_BAR_HEIGHT)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.refresh()
        return False
