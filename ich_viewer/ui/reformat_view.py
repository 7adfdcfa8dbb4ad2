"""A coronal or sagittal reformat of the study, with the reader's mask and the linked crosshair.

The plane on screen is taken from the volume as a numpy view (voxels[:, y, :] or
voxels[:, :, x], analysis/planes.py), never a copy of the volume; a sagittal
plane, whose voxels lie a row apart, is gathered into one plane-sized buffer.
Only that plane is windowed, by pyqtgraph with the axial view's levels as the
axial slice is. The
image item is scaled by the plane's pixel size (dx or dy across, the slice
spacing up), so with the aspect locked a head of 5 mm slices looks like a head,
not a squashed band. The mask is an overlay layer of its own (PlaneMaskLayer) in
an OverlayStack, as on the axial view, parented to the image so it follows the
scaling. Slices ascending to the head are drawn with the vertex up.

Mouse: a left click or drag puts the crosshair there (crosshair_requested with
the voxel), the wheel steps the plane, Ctrl+wheel zooms, middle-drag pans and
right-drag sets the window through window_drag (the axial view owns the window).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ich_viewer.analysis.planes import (
    PLANE_AXES,
    PatientPoint,
    Plane,
    patient_point,
    plane_count,
    plane_edge_letters,
    plane_pixels,
    plane_point_of_voxel,
    plane_scale,
    slices_ascend_to_head,
    voxel_of_plane_point,
)
from ich_viewer.rendering import outline
from ich_viewer.study.model import Study, Window
from ich_viewer.ui.annotations import LETTER_STYLE, MARGIN, _overlay_label
from ich_viewer.ui.overlay import OverlayLayer, OverlayStack
from ich_viewer.ui.slice_view import _SliceViewBox

FIT_PADDING = 0.02
# One colour per plane, for its title and for the line that shows it in the other views. None is
# the hemorrhage red or the reference cyan, and they differ in brightness for colour-blind readers.
PLANE_COLOURS = {Plane.AXIAL: (255, 176, 0), Plane.CORONAL: (90, 220, 110), Plane.SAGITTAL: (180, 140, 255)}
CROSSHAIR_ALPHA = 170
TEXT_COLOUR = QColor("#e8e8e8")  # the axial view's on-image text
NOTE_STYLE = "color: #ffd24d; background: rgba(0, 0, 0, 140); font-size: 9pt;"


def crosshair_pen(plane: Plane, width: float = 1.0):
    return pg.mkPen((*PLANE_COLOURS[plane], CROSSHAIR_ALPHA), width=width)


class PlaneMaskLayer(OverlayLayer):
    """A (z, y, x) bool mask seen in coronal or sagittal planes: plane i of the mask, without copying.

    Drawn from the array it was given, so the reader's edits show after
    OverlayStack.refresh_layer. The layer's "slice" is the plane index.
    """

    supports_contour = True

    def __init__(self, name: str, mask: np.ndarray, colour: tuple[int, int, int], plane: Plane) -> None:
        if mask.ndim != 3:
            raise ValueError(f"mask {name!r} must be (z, y, x), got shape {mask.shape}")
        lut = np.array([[0, 0, 0, 0], [*colour, 255]], dtype=np.uint8)
        super().__init__(name, (plane_count(mask.shape, plane), *plane_pixels(mask, plane, 0).shape), lut)
        self.mask = mask
        self.plane = plane
        self._indices = np.asarray(mask, bool).view(np.uint8)  # 0/1: the LUT index, no copy
        # Which planes hold any mask, found in one pass: testing a sagittal plane on each move
        # would read one byte of every 512, a cache miss each.
        self._other_axes = tuple(axis for axis in range(3) if axis != PLANE_AXES[plane][0])
        self._drawn_planes = self._indices.any(axis=self._other_axes)

    def draws_on(self, z: int) -> bool:
        return bool(self._drawn_planes[z])

    def refresh(self, z: int | None = None) -> None:
        self._drawn_planes = self._indices.any(axis=self._other_axes)

    def slice_indices(self, z: int, contour: bool) -> np.ndarray:
        pixels = plane_pixels(self._indices, self.plane, z)
        return outline(np.ascontiguousarray(pixels)) if contour else pixels


class _ReformatViewBox(_SliceViewBox):
    """The axial view's mouse bindings (wheel, Ctrl+wheel, drags by ReformatView.drag_handler), plus a
    left click that moves the crosshair. The reformat has no drawing or measuring tool."""

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._view.point_at(ev.scenePos())
            return
        super().mouseClickEvent(ev)


class _PlaneGraphics(pg.GraphicsView):
    """pyqtgraph's view, also painting the plane's title and the crosshair's position in the same pass
    as the image: as labels over the viewport, each change would paint the image under them again."""

    def __init__(self, title_colour: tuple[int, int, int]) -> None:
        super().__init__()
        self._title_colour = QColor(*title_colour)
        self.title = ""
        self.position = ""

    def set_text(self, title: str, position: str) -> None:
        if (title, position) != (self.title, self.position):
            self.title, self.position = title, position
            # Through the scene, so that it joins the repaint of the items that moved (one paint).
            self.scene().update()

    def drawForeground(self, painter: QPainter, rect) -> None:  # noqa: N802 (Qt's name)
        super().drawForeground(painter, rect)
        painter.save()
        painter.resetTransform()  # viewport pixels: the text keeps its place and size at any zoom
        metrics = painter.fontMetrics()
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(self._title_colour)
        painter.drawText(MARGIN, MARGIN + metrics.ascent(), self.title)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(TEXT_COLOUR)
        width, height = self.viewport().width(), self.viewport().height()
        painter.drawText(QRect(MARGIN, MARGIN, max(width - 2 * MARGIN, 1), max(height - 2 * MARGIN, 1)),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                         self.position)
        painter.restore()


class ReformatView(QWidget):
    """One coronal or sagittal plane of a Study with its mask overlay and crosshair lines."""

    crosshair_requested = Signal(object)  # (z, y, x) voxel the reader clicked or dragged to
    plane_step_requested = Signal(int)  # wheel notches: move the plane by this many

    def __init__(self, plane: Plane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if plane is Plane.AXIAL:
            raise ValueError("the axial plane is the SliceView's")
        self.plane = plane
        self.window_drag: Callable | None = None  # right-drag handler (the axial view's drag_window)
        self.drawing = False  # what _SliceViewBox asks of its view: no brush or measuring tool here
        self.measuring = None
        self._study: Study | None = None
        self._index = 0
        self._gathered: np.ndarray | None = None  # a sagittal plane's voxels, contiguous

        self.graphics = _PlaneGraphics(PLANE_COLOURS[plane])
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the axial view
        self.graphics.setBackground("k")
        self.view_box = _ReformatViewBox(self)
        self.graphics.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.overlays = OverlayStack(self.image_item, self)
        # The lines of the other two planes: vertical = the plane across, horizontal = the axial slice.
        across = Plane.SAGITTAL if plane is Plane.CORONAL else Plane.CORONAL
        self.vertical_line = pg.InfiniteLine(angle=90, pen=crosshair_pen(across), movable=False)
        self.horizontal_line = pg.InfiniteLine(angle=0, pen=crosshair_pen(Plane.AXIAL), movable=False)
        for line in (self.vertical_line, self.horizontal_line):
            line.setZValue(1000)  # above the overlay layers
            self.view_box.addItem(line, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        viewport = self.graphics.viewport()
        self.note = _overlay_label(viewport, NOTE_STYLE, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note.setWordWrap(True)
        self.letters = {edge: _overlay_label(viewport, LETTER_STYLE, Qt.AlignmentFlag.AlignCenter)
                        for edge in ("left", "right", "top", "bottom")}
        viewport.installEventFilter(self)
        self.set_study(None)

    # -- study and plane ---------------------------------------------------------------------
    @property
    def study(self) -> Study | None:
        return self._study

    @property
    def plane_index(self) -> int:
        return self._index

    def set_study(self, study: Study | None) -> None:
        """Scale the plane for a new study (or clear it); show_plane then draws."""
        self.overlays.clear()
        self._study = study
        self._index = -1
        shown = study is not None
        for item in (self.image_item, self.vertical_line, self.horizontal_line):
            item.setVisible(shown)
        if not shown:
            self.image_item.clear()
            self.note.hide()
            for label in self.letters.values():
                label.hide()
            self._write_labels()
            return
        scale = plane_scale(study.spacing_mm, self.plane)
        self.image_item.setTransform(QTransform.fromScale(scale.column_mm, scale.row_mm))
        # Row 0 (the first slice) at the bottom when the slices ascend to the head.
        self.view_box.invertY(not slices_ascend_to_head(study))
        self.note.setText(scale.note)
        self.note.setVisible(bool(scale.note))
        letters = plane_edge_letters(study, self.plane)
        for edge, label in self.letters.items():
            label.setText(getattr(letters, edge) if letters else "")
            label.setVisible(letters is not None)
        self._lay_out()

    def show_plane(self, index: int, window: Window) -> None:
        """Draw plane `index` in this window (only this plane is windowed)."""
        study = self._study
        if study is None:
            return
        index = min(max(int(index), 0), plane_count(study.voxels.shape, self.plane) - 1)
        if index != self._index:
            self._index = index
            self.image_item.setImage(self._plane_for_drawing(index), autoLevels=False,
                                     levels=(window.low, window.high))
            self.overlays.show_slice(index)
        else:
            self.image_item.setLevels((window.low, window.high))
        self._write_labels()

    def _plane_for_drawing(self, index: int) -> np.ndarray:
        """The plane's voxels: the view itself when its rows are contiguous (coronal); a sagittal
        plane, whose voxels lie a whole row apart, gathered once into a reused plane-sized buffer,
        instead of pyqtgraph reading them scattered twice (its NaN check, then the windowing)."""
        pixels = plane_pixels(self._study.voxels, self.plane, index)
        if pixels.strides[-1] == pixels.itemsize:
            return pixels
        if self._gathered is None or self._gathered.shape != pixels.shape or self._gathered.dtype != pixels.dtype:
            self._gathered = np.empty(pixels.shape, pixels.dtype)
        np.copyto(self._gathered, pixels)
        return self._gathered

    def set_window(self, window: Window) -> None:
        if self._study is not None and self._index >= 0:
            self.image_item.setLevels((window.low, window.high))

    def fit(self) -> None:
        if self._study is not None:
            rect = self.image_item.mapRectToParent(self.image_item.boundingRect())
            self.view_box.setRange(rect=rect, padding=FIT_PADDING)

    # -- crosshair ---------------------------------------------------------------------------
    def set_crosshair(self, z: int, y: int, x: int) -> None:
        """Put the lines through voxel (z, y, x) (its plane should be the one on screen)."""
        _, column, row = plane_point_of_voxel(self.plane, z, y, x)
        centre = self.image_item.mapToParent(QPointF(column + 0.5, row + 0.5))
        self.vertical_line.setPos(centre.x())
        self.horizontal_line.setPos(centre.y())
        self._write_labels()

    def crosshair_voxel(self) -> tuple[int, int, int] | None:
        """The voxel (z, y, x) where the lines cross, read back from where they are drawn."""
        if self._study is None or self._index < 0:
            return None
        pixel = self.image_item.mapFromParent(QPointF(self.vertical_line.value(), self.horizontal_line.value()))
        return voxel_of_plane_point(self.plane, self._index, math.floor(pixel.x()), math.floor(pixel.y()))

    def patient_position(self) -> PatientPoint | None:
        """Where the crosshair is in the patient (analysis.planes.patient_point)."""
        voxel = self.crosshair_voxel()
        return None if voxel is None else patient_point(self._study, *voxel)

    def point_at(self, scene_pos: QPointF) -> None:
        """The reader clicked or dragged here: ask for the crosshair on that voxel (kept inside the plane)."""
        study = self._study
        if study is None or self._index < 0:
            return
        pixel = self.image_item.mapFromScene(scene_pos)
        rows, columns = plane_pixels(study.voxels, self.plane, self._index).shape
        column = min(max(math.floor(pixel.x()), 0), columns - 1)
        row = min(max(math.floor(pixel.y()), 0), rows - 1)
        self.crosshair_requested.emit(voxel_of_plane_point(self.plane, self._index, column, row))

    def step_slices(self, n: int) -> None:
        """The wheel: ask to move the plane by n."""
        self.plane_step_requested.emit(n)

    def drag_handler(self, button: Qt.MouseButton):
        """Left-drag moves the crosshair, right-drag sets the window; None leaves it to pyqtgraph (pan)."""
        if button == Qt.MouseButton.LeftButton:
            return lambda ev: self.point_at(ev.scenePos())
        return self.window_drag if button == Qt.MouseButton.RightButton else None

    def scene_pos_of_pixel(self, column: float, row: float) -> QPointF:
        """Scene position of the centre of plane pixel (column, row); for tests and tools."""
        return self.image_item.mapToScene(QPointF(column + 0.5, row + 0.5))

    # -- labels --------------------------------------------------------------------------------
    def _write_labels(self) -> None:
        study = self._study
        name = self.plane.value.capitalize()
        if study is None or self._index < 0:
            self.graphics.set_text(name, "")
            return
        # The plane by the image coordinate it holds, as the axial view's probe reads "(x 40, y 30)".
        axis = "y" if self.plane is Plane.CORONAL else "x"
        position = self.patient_position()
        self.graphics.set_text(f"{name}  ·  {axis} {self._index}", position.text() if position is not None else "")

    def _lay_out(self) -> None:
        w, h = self.graphics.viewport().width(), self.graphics.viewport().height()
        line_h = 22
        self.note.setGeometry(MARGIN, MARGIN + line_h, max(w - 2 * MARGIN, 1), 2 * line_h)
        size = 30
        self.letters["left"].setGeometry(MARGIN, h // 2 - size // 2, size, size)
        self.letters["right"].setGeometry(w - MARGIN - size, h // 2 - size // 2, size, size)
        self.letters["top"].setGeometry(w // 2 - size // 2, MARGIN, size, size)
        self.letters["bottom"].setGeometry(w // 2 - size // 2, h - MARGIN - line_h - size, size, size)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._lay_out()
        return False
