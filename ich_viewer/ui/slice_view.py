"""The slice view: one axial CT slice, its overlays, window/level and mouse handling.

With drawing on (brush or eraser chosen), a left-drag or click becomes a
stroke: stroke_started / stroke_moved / stroke_finished carry image pixel
positions, and a circle of the brush size follows the cursor. The view only
reports where the reader drew; the window decides what a stroke changes.

Coordinates: the image item is scaled by the in-plane pixel spacing, so view
coordinates are millimetres when the spacing is known (and pixels when not).
That gives the right pixel aspect for free with the aspect ratio locked at 1,
and the overlay items, being children of the image item, follow it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPen, QTransform
from PySide6.QtWidgets import QGraphicsEllipseItem, QHBoxLayout, QLabel, QSlider, QStackedLayout, QWidget

from ich_viewer.study.model import Study, Window
from ich_viewer.ui.annotations import ImageAnnotations
from ich_viewer.ui.measurements import MeasurementLayer
from ich_viewer.ui.overlay import OverlayStack

WHEEL_STEP = 120  # angleDelta of one notch of a standard mouse wheel
# Right-drag window sensitivity: a drag across 250 screen pixels changes the
# width (or level) by about the current width, fine for brain and bone alike.
WINDOW_DRAG_PIXELS = 250.0
MIN_WINDOW_DRAG_SCALE = 50.0
ZOOM_STEP = 1.25
FIT_PADDING = 0.02
EMPTY_HINT = "Open a study: File ▸ Open folder (Ctrl+O), or drop a folder here"
BRUSH_OUTLINE_COLOUR = (255, 215, 0)  # yellow: visible on grey brain, apart from the red and cyan masks


@dataclass(frozen=True)
class PixelProbe:
    """The voxel under the cursor."""

    x: int
    y: int
    z: int
    value: float
    hu: bool
    position_mm: tuple[float, float] | None  # (x, y) from the image corner, when spacing is known

    def text(self) -> str:
        value = f"HU {self.value:.0f}" if self.hu else f"value {self.value:.0f}"
        parts = [value, f"(x {self.x}, y {self.y})"]
        if self.position_mm is not None:
            parts.append(f"{self.position_mm[0]:.1f}, {self.position_mm[1]:.1f} mm")
        return "   ".join(parts)


DISPLAY_MIN, DISPLAY_MAX = 0, 255  # the values 8-bit images can hold


def _display_contrast(level: float, width: float) -> Window:
    """An 8-bit stretch: whole min / max values inside 0..255, as the Min / Max boxes can show them."""
    low = min(max(round(level - width / 2), DISPLAY_MIN), DISPLAY_MAX - 1)
    high = min(max(round(level + width / 2), low + 1), DISPLAY_MAX)
    return Window((low + high) / 2, high - low)



class _SliceViewBox(pg.ViewBox):
    """ViewBox with radiology mouse bindings: wheel = slices, Ctrl+wheel = zoom,
    right-drag = window/level, left/middle-drag = pan (the pyqtgraph default).
    With left_drag_window on (the Weasis/Horos habit), left-drag also sets the window
    and only middle-drag pans."""

    def __init__(self, view: SliceView) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._view = view
        self._wheel_rest = 0

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        # Trackpads send fractions of a notch: accumulate them into whole slices.
        self._wheel_rest += ev.delta()
        notches = int(self._wheel_rest / WHEEL_STEP)
        self._wheel_rest -= notches * WHEEL_STEP
        if notches and self._view.drawing and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._view.brush_resize_requested.emit(notches)
        elif notches:
            # Rolling the wheel towards you (negative delta) goes to the next slice.
            self._view.step_slices(-notches)
        ev.accept()

    def mouseDragEvent(self, ev, axis=None):
        handler = self._view.drag_handler(ev.button())
        if handler is not None:
            ev.accept()
            handler(ev)
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton and self._view.drawing:
            ev.accept()
            self._view.click_stroke(ev.scenePos())
            return
        if ev.button() == Qt.MouseButton.LeftButton and self._view.measuring:
            ev.accept()
            self._view.measure_clicked.emit(self._view.image_point(ev.scenePos()))
            return
        super().mouseClickEvent(ev)


class SliceBar(QWidget):
    """Slice slider with the 'slice 12 / 32 · #12' readout."""

    slice_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        # Keys belong to the window's shortcuts, not to a focused slider.
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.readout = QLabel("no study")
        self.readout.setToolTip("Slice position; # is the slice label (CT-ICH file number or DICOM instance number)")
        self.readout.setMinimumWidth(170)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.readout)
        self.slider.valueChanged.connect(self.slice_requested)
        self.set_slice_count(0)

    def set_slice_count(self, n_slices: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n_slices - 1, 0))
        self.slider.setPageStep(10)
        self.slider.blockSignals(False)
        self.setEnabled(n_slices > 0)
        if not n_slices:
            self.readout.setText("no study")

    def show_slice(self, index: int, n_slices: int, label: str) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.readout.setText(f"slice {index + 1} / {n_slices}  ·  #{label}")


class SliceView(QWidget):
    """Shows one slice of a Study with its overlay layers."""

    slice_changed = Signal(int)
    window_changed = Signal(object)  # Window
    probe_changed = Signal(object)  # PixelProbe, or None when the cursor is off the image
    stroke_started = Signal(QPointF)  # image pixel position (x, y) where the button went down
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()
    brush_resize_requested = Signal(int)  # Shift+wheel notches while drawing
    measure_dragged = Signal(QPointF, QPointF, bool)  # image positions from / to, and whether released
    measure_clicked = Signal(QPointF)  # image position of a left click while measuring

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._study: Study | None = None
        self._z = 0
        self._window = Window(40, 80)
        self._drag_start_window = self._window
        self._last_scene_pos: QPointF | None = None

        self.graphics = pg.GraphicsView()
        self.view_box = _SliceViewBox(self)
        self.graphics.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.overlays = OverlayStack(self.image_item, self)
        self.drawing = False
        self.left_drag_window = False  # left-drag pans (False) or sets the window (True)
        self.measuring: str | None = None  # "ruler" or "ellipse": left-drag measures
        self._brush_radius = 1.0
        self._brush_outline = _brush_outline(self.image_item)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.viewport().installEventFilter(self)
        # The view, not a number box in the toolbar, must hold the keyboard so that
        # digits switch presets and arrows scroll.
        self.graphics.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocusProxy(self.graphics)

        hint = QLabel(EMPTY_HINT, alignment=Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("color: #aaa; background: black; font-size: 14pt;")
        self._pages = QStackedLayout(self)
        self._pages.addWidget(hint)
        self._pages.addWidget(self.graphics)
        self.annotations = ImageAnnotations(self)
        self.measurements = MeasurementLayer(self)

    # -- study ----------------------------------------------------------------------------
    @property
    def study(self) -> Study | None:
        return self._study

    def set_study(self, study: Study) -> None:
        """Show a study from its middle slice (where the brain is) in its default window."""
        self.overlays.clear()
        self.measurements.clear()  # they were of the previous study's slices
        self._study = study
        self.image_item.setTransform(_pixel_scale(study))
        self._pages.setCurrentWidget(self.graphics)
        self._window = study.default_window()
        self._z = -1
        self.set_slice(study.n_slices // 2)
        self.fit()
        self.window_changed.emit(self._window)

    def clear(self) -> None:
        self.overlays.clear()
        self.measurements.clear()
        self._study = None
        self.image_item.clear()
        self._pages.setCurrentIndex(0)
        self.annotations.refresh()

    # -- slices ---------------------------------------------------------------------------
    @property
    def slice_index(self) -> int:
        return self._z

    def set_slice(self, z: int) -> None:
        if self._study is None:
            return
        z = min(max(int(z), 0), self._study.n_slices - 1)
        if z == self._z:
            return
        self._z = z
        self.image_item.setImage(self._study.voxels[z], autoLevels=False, levels=self._levels())
        self.overlays.show_slice(z)
        self.slice_changed.emit(z)
        self._reprobe()

    def step_slices(self, n: int) -> None:
        self.set_slice(self._z + n)

    def first_slice(self) -> None:
        self.set_slice(0)

    def last_slice(self) -> None:
        if self._study is not None:
            self.set_slice(self._study.n_slices - 1)

    # -- window / level ---------------------------------------------------------------------
    @property
    def window(self) -> Window:
        return self._window

    def set_window(self, window: Window) -> None:
        if window.width <= 0:
            raise ValueError(f"window width must be positive, got {window.width}")
        if window == self._window:
            return
        self._window = window
        if self._study is not None:
            self.image_item.setLevels(self._levels())
        self.window_changed.emit(window)

    def drag_handler(self, button: Qt.MouseButton):
        """What a drag with this button does; None leaves it to pyqtgraph (pan)."""
        if button == Qt.MouseButton.RightButton:
            return self.drag_window
        if button != Qt.MouseButton.LeftButton:
            return None
        # The tool the reader chose comes first; left-drag window is the habit when no tool is on.
        for on, handler in ((self.drawing, self.drag_stroke), (self.measuring, self.drag_measure),
                            (self.left_drag_window, self.drag_window)):
            if on:
                return handler
        return None

    def drag_window(self, ev) -> None:
        """Right-drag (or left-drag, as chosen): horizontal changes the width, vertical the level."""
        if self._study is None:
            return
        if ev.isStart():
            self._drag_start_window = self._window
        start = self._drag_start_window
        moved = ev.screenPos() - ev.buttonDownScreenPos(ev.button())
        per_pixel = max(start.width, MIN_WINDOW_DRAG_SCALE) / WINDOW_DRAG_PIXELS
        width = max(1.0, start.width + moved.x() * per_pixel)
        level = start.level + moved.y() * per_pixel
        if self._study.is_hu:
            self.set_window(Window(round(level), round(width)))
        else:
            self.set_window(_display_contrast(level, width))

    def _levels(self) -> tuple[float, float]:
        return (self._window.low, self._window.high)

    # -- zoom and pan ---------------------------------------------------------------------
    def zoom_by(self, factor: float) -> None:
        """factor > 1 magnifies, about the centre of the view."""
        self.view_box.scaleBy((1 / factor, 1 / factor))

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        if self._study is not None:
            self.view_box.setRange(rect=self._image_rect(), padding=FIT_PADDING)

    def reset(self) -> None:
        """Fit the slice and go back to the study's default window."""
        if self._study is not None:
            self.fit()
            self.set_window(self._study.default_window())

    def _image_rect(self) -> QRectF:
        return self.image_item.mapRectToParent(self.image_item.boundingRect())

    # -- drawing --------------------------------------------------------------------------
    def set_drawing(self, drawing: bool) -> None:
        """Left-drag paints (True) or pans (False); middle-drag always pans."""
        self.drawing = drawing
        cursor = Qt.CursorShape.CrossCursor if drawing else Qt.CursorShape.ArrowCursor
        self.graphics.viewport().setCursor(cursor)
        self._show_brush_outline()

    def set_brush_radius(self, radius: float) -> None:
        self._brush_radius = float(radius)
        self._show_brush_outline()

    def drag_stroke(self, ev) -> None:
        if ev.isStart():
            self.stroke_started.emit(self.image_point(ev.buttonDownScenePos(Qt.MouseButton.LeftButton)))
        self.stroke_moved.emit(self.image_point(ev.scenePos()))
        if ev.isFinish():
            self.stroke_finished.emit()

    def set_measuring(self, kind: str | None) -> None:
        self.measuring = kind
        if kind is not None:
            self.graphics.viewport().setCursor(Qt.CursorShape.CrossCursor)
        elif not self.drawing:
            self.graphics.viewport().setCursor(Qt.CursorShape.ArrowCursor)

    def drag_measure(self, ev) -> None:
        start = self.image_point(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
        self.measure_dragged.emit(start, self.image_point(ev.scenePos()), ev.isFinish())

    def click_stroke(self, scene_pos: QPointF) -> None:
        self.stroke_started.emit(self.image_point(scene_pos))
        self.stroke_finished.emit()

    def image_point(self, scene_pos: QPointF) -> QPointF:
        """Image pixel coordinates (x = column, y = row, pixel centres at +0.5) of a scene position."""
        return self.image_item.mapFromScene(scene_pos)

    def _show_brush_outline(self) -> None:
        outline, pos = self._brush_outline, self._last_scene_pos
        if not (self.drawing and pos is not None and self._study is not None):
            outline.hide()
            return
        centre, r = self.image_point(pos), self._brush_radius
        outline.setRect(QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r))
        outline.show()

    # -- the voxel under the cursor ---------------------------------------------------------
    def probe_at(self, scene_pos: QPointF) -> PixelProbe | None:
        """The voxel of the current slice at a scene position, or None off the image."""
        study = self._study
        if study is None or self._z < 0:
            return None
        pos = self.image_item.mapFromScene(scene_pos)
        x, y = math.floor(pos.x()), math.floor(pos.y())
        _, ny, nx = study.voxels.shape
        if not (0 <= x < nx and 0 <= y < ny):
            return None
        position_mm = None
        if study.spacing_mm is not None:
            view_pos = self.image_item.mapToParent(pos)
            position_mm = (view_pos.x(), view_pos.y())
        value = float(study.voxels[self._z, y, x])
        return PixelProbe(x, y, self._z, value, study.is_hu, position_mm)

    def scene_pos_of_pixel(self, x: float, y: float) -> QPointF:
        """Scene position of the centre of pixel (x, y); for tests and tools."""
        return self.image_item.mapToScene(QPointF(x + 0.5, y + 0.5))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._last_scene_pos = QPointF(scene_pos)
        self.probe_changed.emit(self.probe_at(scene_pos))
        self._show_brush_outline()

    def _reprobe(self) -> None:
        # Scrolling under a still cursor must update the value shown.
        if self._last_scene_pos is not None:
            self.probe_changed.emit(self.probe_at(self._last_scene_pos))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._last_scene_pos = None
            self.probe_changed.emit(None)
            self._show_brush_outline()
        return False


def _brush_outline(image_item: pg.ImageItem) -> QGraphicsEllipseItem:
    """The brush's circle, in image pixels (a child of the image, so it follows the pixel spacing)."""
    outline = QGraphicsEllipseItem(image_item)
    pen = QPen(pg.mkColor(*BRUSH_OUTLINE_COLOUR))
    pen.setCosmetic(True)  # one screen pixel wide at any zoom
    outline.setPen(pen)
    outline.setZValue(1000)  # above every overlay layer
    outline.hide()
    return outline


def _pixel_scale(study: Study) -> QTransform:
    """Scale pixels to millimetres so non-square pixels are drawn with the right aspect."""
    if study.spacing_mm is None:
        return QTransform()
    _, dy, dx = study.spacing_mm
    return QTransform.fromScale(dx, dy)

