"""The image area: the axial view alone (1 view), or beside its coronal and sagittal reformats (3 views).

The axial SliceView stays the main view: it owns the study, the slice, the
window and the overlay switches, and this layout follows it (its signals),
so nothing else in the window changes with the layout. In 3 views a linked
crosshair marks one voxel in all three:

  - the axial slice is the crosshair's z: scrolling moves the horizontal line
    of the reformats, and a click or drag in a reformat scrolls the axial view;
  - its y and x are the coronal and sagittal planes: a left click on the axial
    image (no tool on) moves both, and dragging the axial view's lines moves one;
  - each view draws the crosshair at the same patient coordinate
    (analysis.planes.patient_point: DICOM geometry, else voxel size).

The reformats are drawn only while shown, one plane each, a view of the
volume (no copy); switching back to 3 views brings them up to date.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ich_viewer.analysis.planes import PatientPoint, Plane, clamp_voxel, patient_point
from ich_viewer.study.model import Study
from ich_viewer.ui.overlay import MODEL_COLOUR, MODEL_LAYER
from ich_viewer.ui.reformat_view import PlaneMaskLayer, ReformatView, crosshair_pen
from ich_viewer.ui.slice_view import SliceView

AXIAL_SHARE = 0.6  # of the width, in 3 views; the reformats share the rest, one above the other


class _CrosshairLine(pg.InfiniteLine):
    """A crosshair line on the axial view: draggable only while active() (3 views, no tool on),
    so that it never takes a brush stroke or a measurement from the reader."""

    def __init__(self, angle: int, plane: Plane, active: Callable[[], bool]) -> None:
        super().__init__(angle=angle, pen=crosshair_pen(plane), hoverPen=crosshair_pen(plane, 3), movable=True)
        self._active = active

    def hoverEvent(self, ev):
        if self._active():
            super().hoverEvent(ev)
        else:
            self.setMouseHover(False)

    def mouseDragEvent(self, ev):
        if self._active() or self.moving:
            super().mouseDragEvent(ev)
        else:
            ev.ignore()


class ThreeViewLayout(QWidget):
    """The axial view and its slice bar, and (in 3 views) the coronal and sagittal reformats."""

    layout_changed = Signal(bool)  # True: 3 views
    crosshair_moved = Signal(object)  # (z, y, x), in 3 views

    def __init__(self, axial: SliceView, slice_bar: QWidget, mask_source: Callable[[], np.ndarray | None],
                 parent: QWidget | None = None) -> None:
        """mask_source: the (z, y, x) bool mask on screen (the review's), or None."""
        super().__init__(parent)
        self.axial = axial
        self._mask_source = mask_source
        self._study: Study | None = None
        self._yx = (0, 0)  # the crosshair's row and column: the coronal and sagittal planes
        self._three = False
        self._stale = True  # the reformats show an older study (or none): set it and fit them
        self.coronal = ReformatView(Plane.CORONAL)
        self.sagittal = ReformatView(Plane.SAGITTAL)

        axial_column = QWidget()
        column_layout = QVBoxLayout(axial_column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        column_layout.addWidget(axial, 1)
        column_layout.addWidget(slice_bar)
        self.reformats = QSplitter(Qt.Orientation.Vertical)
        self.reformats.setChildrenCollapsible(False)
        self.reformats.addWidget(self.coronal)
        self.reformats.addWidget(self.sagittal)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(axial_column)
        self.splitter.addWidget(self.reformats)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.reformats.hide()

        # The vertical axial line is the sagittal plane (x), the horizontal one the coronal plane (y).
        self.axial_lines = {Plane.SAGITTAL: _CrosshairLine(90, Plane.SAGITTAL, self._axial_lines_active),
                            Plane.CORONAL: _CrosshairLine(0, Plane.CORONAL, self._axial_lines_active)}
        for line in self.axial_lines.values():
            line.setZValue(1000)
            line.hide()
            axial.view_box.addItem(line, ignoreBounds=True)
            line.sigDragged.connect(self._on_axial_line_dragged)
        self._connect()

    def _connect(self) -> None:
        axial = self.axial
        axial.slice_changed.connect(self._on_axial_slice)
        axial.window_changed.connect(self._on_window)
        axial.overlays.layers_changed.connect(self._sync_mask)
        axial.overlays.display_changed.connect(self._sync_mask)
        axial.graphics.scene().sigMouseClicked.connect(self._on_axial_click)
        for view in (self.coronal, self.sagittal):
            view.crosshair_requested.connect(lambda voxel: self.set_crosshair(*voxel))
            view.window_drag = axial.drag_window  # right-drag in a reformat sets the one window
        self.coronal.plane_step_requested.connect(lambda n: self._step_plane(n, 0))
        self.sagittal.plane_step_requested.connect(lambda n: self._step_plane(0, n))

    # -- the layout ----------------------------------------------------------------------------
    @property
    def three_views(self) -> bool:
        return self._three

    def set_three_views(self, three: bool) -> None:
        """3 views (axial, coronal, sagittal with the crosshair) or the axial view alone."""
        three = bool(three)
        if three == self._three:
            return
        self._three = three
        if three:
            width = max(self.splitter.width(), 1000)  # not yet laid out: the shares are what counts
            self.splitter.setSizes([round(width * AXIAL_SHARE), width - round(width * AXIAL_SHARE)])
        self.reformats.setVisible(three)
        for line in self.axial_lines.values():
            line.setVisible(three and self._study is not None)
        if three:
            self._bring_up_to_date()
        self.layout_changed.emit(three)

    def toggle(self) -> None:
        self.set_three_views(not self._three)

    # -- the crosshair -------------------------------------------------------------------------
    def crosshair(self) -> tuple[int, int, int] | None:
        """(z, y, x): the axial slice and the coronal and sagittal planes; None without a study."""
        if self._study is None:
            return None
        return (self.axial.slice_index, *self._yx)

    def set_crosshair(self, z: int, y: int, x: int) -> None:
        """Put the crosshair on voxel (z, y, x): the axial view goes to slice z, the reformats to y and x."""
        if self._study is None:
            return
        z, y, x = clamp_voxel(self._study.voxels.shape, z, y, x)
        self._yx = (y, x)
        if self._three:
            self._show_planes()
        if z != self.axial.slice_index:
            self.axial.set_slice(z)  # -> _on_axial_slice draws the crosshair
        elif self._three:
            self._draw_crosshair()

    def axial_crosshair_voxel(self) -> tuple[int, int, int] | None:
        """The voxel (z, y, x) where the axial view's lines cross, read back from where they are drawn."""
        if self._study is None:
            return None
        x_line, y_line = self.axial_lines[Plane.SAGITTAL], self.axial_lines[Plane.CORONAL]
        pixel = self.axial.image_item.mapFromParent(QPointF(x_line.value(), y_line.value()))
        return self.axial.slice_index, math.floor(pixel.y()), math.floor(pixel.x())

    def axial_patient_position(self) -> PatientPoint | None:
        voxel = self.axial_crosshair_voxel()
        return None if voxel is None else patient_point(self._study, *voxel)

    def _step_plane(self, dy: int, dx: int) -> None:
        if self._study is not None:
            y, x = self._yx
            self.set_crosshair(self.axial.slice_index, y + dy, x + dx)

    def _axial_lines_active(self) -> bool:
        axial = self.axial
        return self._three and self._study is not None and not axial.drawing and not axial.measuring

    def _on_axial_click(self, ev) -> None:
        """A left click on the axial image that no tool took: the reformats go through that voxel."""
        if ev.button() != Qt.MouseButton.LeftButton or ev.isAccepted() or not self._axial_lines_active():
            return
        pixel = self.axial.image_point(ev.scenePos())
        x, y = math.floor(pixel.x()), math.floor(pixel.y())
        _, ny, nx = self._study.voxels.shape
        if 0 <= x < nx and 0 <= y < ny:
            self.set_crosshair(self.axial.slice_index, y, x)

    def _on_axial_line_dragged(self, line: _CrosshairLine) -> None:
        y, x = self._yx
        if line is self.axial_lines[Plane.SAGITTAL]:
            x = math.floor(self.axial.image_item.mapFromParent(QPointF(line.value(), 0)).x())
        else:
            y = math.floor(self.axial.image_item.mapFromParent(QPointF(0, line.value())).y())
        self.set_crosshair(self.axial.slice_index, y, x)

    # -- following the axial view --------------------------------------------------------------
    def _on_axial_slice(self, _z: int) -> None:
        study = self.axial.study
        if study is not self._study:
            self._study = study
            self._yx = (study.voxels.shape[1] // 2, study.voxels.shape[2] // 2) if study is not None else (0, 0)
            self._stale = True
            for line in self.axial_lines.values():
                line.setVisible(self._three and study is not None)
            if self._three:
                self._bring_up_to_date()
                return
        if self._three:
            self._draw_crosshair()

    def _on_window(self, window) -> None:
        if self._three:
            self.coronal.set_window(window)
            self.sagittal.set_window(window)

    def refresh_mask(self, *_args) -> None:
        """The mask on screen was edited in place (or replaced): redraw it in the reformats."""
        if not self._three:
            return
        self._sync_mask()
        for view in (self.coronal, self.sagittal):
            if view.overlays.layer(MODEL_LAYER) is not None:
                view.overlays.refresh_layer(MODEL_LAYER)

    def _sync_mask(self) -> None:
        """The reformats show the mask the axial view shows, with its switches (O, C, opacity)."""
        if not self._three:
            return
        shown = self.axial.overlays
        axial_layer = shown.layer(MODEL_LAYER)
        mask = self._mask_source() if axial_layer is not None and self._study is not None else None
        for view in (self.coronal, self.sagittal):
            overlays = view.overlays
            if mask is None or mask.shape != self._study.voxels.shape:
                if overlays.layer(MODEL_LAYER) is not None:
                    overlays.remove_layer(MODEL_LAYER)
                continue
            layer = overlays.layer(MODEL_LAYER)
            if layer is None or layer.mask is not mask:
                overlays.add_layer(PlaneMaskLayer(MODEL_LAYER, mask, MODEL_COLOUR, view.plane))
            overlays.set_layer_visible(MODEL_LAYER, axial_layer.visible)
            overlays.set_opacity(shown.opacity)
            overlays.set_contour(shown.contour)
            overlays.set_shown(shown.shown)

    # -- drawing -------------------------------------------------------------------------------
    def _bring_up_to_date(self) -> None:
        """On entering 3 views, or a new study in 3 views: the study, planes, mask and crosshair."""
        if self._stale:
            for view in (self.coronal, self.sagittal):
                view.set_study(self._study)
        self._show_planes()
        self._sync_mask()
        if self._stale:
            self.coronal.fit()
            self.sagittal.fit()
            self._stale = False
        if self._study is not None:
            self._draw_crosshair()

    def _show_planes(self) -> None:
        y, x = self._yx
        window = self.axial.window
        self.coronal.show_plane(y, window)
        self.sagittal.show_plane(x, window)

    def _draw_crosshair(self) -> None:
        z, (y, x) = self.axial.slice_index, self._yx
        self.coronal.set_crosshair(z, y, x)
        self.sagittal.set_crosshair(z, y, x)
        centre = self.axial.image_item.mapToParent(QPointF(x + 0.5, y + 0.5))
        self.axial_lines[Plane.SAGITTAL].setPos(centre.x())
        self.axial_lines[Plane.CORONAL].setPos(centre.y())
        self.crosshair_moved.emit((z, y, x))
