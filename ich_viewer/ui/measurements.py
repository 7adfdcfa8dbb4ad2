"""Ruler, elliptical ROI and midline shift on the slice view, and the panel that lists them.

Measurements belong to the study on screen and to their slice: drawn as
children of the image item (image pixel coordinates, so they follow zoom, pan
and the pixel aspect), shown only on their own slice, kept while scrolling.
"""

from __future__ import annotations

from dataclasses import replace

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.analysis.measurements import (
    ELLIPSE,
    MIDLINE,
    RULER,
    Measurement,
    describe,
    foot_on_line,
    higher_columns_side,
)

MEASURE_COLOUR = QColor(80, 220, 255)  # cyan-blue: apart from the red mask and the yellow brush
LABEL_COLOUR = (230, 240, 255)


def _cosmetic_pen() -> QPen:
    pen = QPen(MEASURE_COLOUR)
    pen.setCosmetic(True)
    pen.setWidthF(1.5)
    return pen


class MeasurementLayer(QObject):
    """The study's measurements, drawn on the slice view."""

    changed = Signal()

    def __init__(self, view) -> None:
        super().__init__(view)
        self._view = view
        self.measurements: list[Measurement] = []
        self._items: list[tuple] = []  # (shape item, text item), as measurements
        self._preview = None
        view.slice_changed.connect(self._show_slice)
        view.measure_dragged.connect(self._on_drag)
        view.measure_clicked.connect(self._on_click)

    # -- the list ------------------------------------------------------------------------
    def texts(self) -> list[str]:
        study = self._view.study
        if study is None:
            return []
        spacing = None if study.spacing_mm is None else study.spacing_mm[1:]
        side = higher_columns_side(study.geometry)
        return [describe(m, study.voxels, spacing, study.is_hu, study.slice_labels[m.z], side)
                for m in self.measurements]

    def replace_all(self, measurements: list[Measurement]) -> None:
        """Show these instead (edits restored from the autosave bring their measurements); one change."""
        self._replace(list(measurements))

    def add(self, measurement: Measurement) -> None:
        self._replace([*self.measurements, measurement])

    def delete(self, index: int) -> None:
        if 0 <= index < len(self.measurements):
            self._replace(self.measurements[:index] + self.measurements[index + 1:])

    def clear(self) -> None:
        if self.measurements:
            self._replace([])

    def _replace(self, measurements: list[Measurement]) -> None:
        """Redraw what changed and tell the listeners once (each change is one autosave)."""
        kept = {id(m): items for m, items in zip(self.measurements, self._items)}
        staying = {id(m) for m in measurements}
        for m, items in zip(self.measurements, self._items):
            if id(m) not in staying:
                _remove(items)
        self._items = [kept.get(id(m)) or self._draw(m) for m in measurements]
        self.measurements = measurements
        self._label_items()
        self._show_slice(self._view.slice_index)
        self.changed.emit()

    # -- drawing -------------------------------------------------------------------------
    def _draw(self, m: Measurement) -> tuple:
        parent = self._view.image_item
        if m.kind == RULER:
            shape = QGraphicsLineItem(QLineF(QPointF(*m.start), QPointF(*m.end)), parent)
        elif m.kind == MIDLINE:
            shape = QGraphicsPathItem(_midline_path(m), parent)
        else:
            shape = QGraphicsEllipseItem(QRectF(QPointF(*m.start), QPointF(*m.end)).normalized(), parent)
        shape.setPen(_cosmetic_pen())
        shape.setZValue(900)
        text = pg.TextItem(color=LABEL_COLOUR, anchor=(0, 1))
        text.setParentItem(parent)
        text.setPos(QPointF(*m.end))
        return shape, text

    def _label_items(self) -> None:
        for text, (_, label) in zip(self.texts(), self._items):
            label.setText(text.split(" · ", 1)[1])

    def _show_slice(self, z: int) -> None:
        for m, items in zip(self.measurements, self._items):
            for item in items:
                item.setVisible(m.z == z)

    def _on_drag(self, start: QPointF, end: QPointF, finished: bool) -> None:
        kind = self._view.measuring
        if kind is None or self._view.study is None:
            return
        if self._preview is not None:
            _remove(self._preview)
            self._preview = None
        m = Measurement(kind, self._view.slice_index, (start.x(), start.y()), (end.x(), end.y()))
        if finished:
            if start != end:
                self.add(m)
        else:
            self._preview = self._draw(m)

    def _on_click(self, at: QPointF) -> None:
        """With the midline tool: a click after drawing the falx line marks the septum pellucidum."""
        pending = self._pending_midline()
        if pending is None:
            return
        marked = replace(pending, point=(at.x(), at.y()))
        self._replace([marked if m is pending else m for m in self.measurements])

    def _pending_midline(self) -> Measurement | None:
        z = self._view.slice_index
        return next((m for m in reversed(self.measurements)
                     if m.kind == MIDLINE and m.point is None and m.z == z), None)


def _midline_path(m: Measurement) -> QPainterPath:
    """The falx line, and once the septum is marked, the perpendicular from it to the line."""
    path = QPainterPath(QPointF(*m.start))
    path.lineTo(QPointF(*m.end))
    if m.point is not None:
        path.moveTo(QPointF(*m.point))
        path.lineTo(QPointF(*foot_on_line(m.start, m.end, m.point)))
        path.addEllipse(QPointF(*m.point), 1.5, 1.5)
    return path


def _remove(items) -> None:
    for item in items:
        if item.scene() is not None:
            item.scene().removeItem(item)


class MeasurementsPanel(QWidget):
    """The list of measurements, with Delete (one) and Delete all."""

    slice_requested = Signal(int)

    def __init__(self, layer: MeasurementLayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setToolTip("Click a measurement to show its slice")
        self.list.itemClicked.connect(lambda item: self.slice_requested.emit(
            self.layer.measurements[self.list.row(item)].z))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.delete_all_button = QPushButton("Delete all")
        self.delete_all_button.clicked.connect(layer.clear)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.delete_all_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        hint = QLabel("Ruler (M) and ellipse ROI (Shift+M): drag on the image. Midline shift (Ctrl+Shift+M): "
                      "drag from the anterior to the posterior falx attachment, then click the septum "
                      "pellucidum")
        hint.setWordWrap(True)  # never widen the dock column the Findings panel shares
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layer.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        self.list.addItems(self.layer.texts())
        has_any = bool(self.layer.measurements)
        self.delete_button.setEnabled(has_any)
        self.delete_all_button.setEnabled(has_any)

    def delete_selected(self) -> None:
        self.layer.delete(self.list.currentRow())


__all__ = ["ELLIPSE", "MIDLINE", "RULER", "MeasurementLayer", "MeasurementsPanel"]
