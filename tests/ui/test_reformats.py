"""Coronal and sagittal reformats, the linked crosshair and the 1 view / 3 views layout (issue 13)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from ich_viewer.analysis.annotations import EdgeLetters
from ich_viewer.analysis.planes import (
    ASSUMED_SLICE_STEP_PX,
    PATIENT_FRAME,
    Plane,
    patient_point,
    plane_edge_letters,
    plane_pixels,
    plane_scale,
    slices_ascend_to_head,
)
from ich_viewer.study.model import DicomGeometry
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.overlay import MODEL_LAYER
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.viewer_studies import N_COLUMNS, N_ROWS, N_SLICES, known_mask, make_display_study, make_hu_study
from tests.ui.ui_support import mouse_drag, send_mouse, wheel

# A DICOM-like geometry: rows turned 10° about the head-foot axis, slices 5 mm apart upwards.
ANGLE = math.radians(10)
ROW_COSINES = (math.cos(ANGLE), math.sin(ANGLE), 0.0)
COLUMN_COSINES = (-math.sin(ANGLE), math.cos(ANGLE), 0.0)
ORIGIN = np.array([-100.0, -120.0, 30.0])


def dicom_like_study(descending: bool = False):
    positions = ORIGIN + np.arange(N_SLICES)[:, None] * np.array([0.0, 0.0, 5.0])
    if descending:
        positions = positions[::-1].copy()
    return make_hu_study(geometry=DicomGeometry(positions=positions, orientation=ROW_COSINES + COLUMN_COSINES))


def three_views(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_L)
    layout = window.three_views
    assert layout.three_views
    # Laid out by the event loop, as on screen.
    qtbot.waitUntil(lambda: min(layout.coronal.image_item.sceneBoundingRect().width(),
                                layout.sagittal.image_item.sceneBoundingRect().width()) > 0)
    return layout


def displayed_aspect(view) -> float:
    """Height over width of the plane as drawn on screen."""
    rect = view.image_item.sceneBoundingRect()
    return rect.height() / rect.width()


def click(view, column: int, row: int) -> tuple[int, int]:
    """Click the screen pixel nearest the centre of an image pixel; returns the image pixel
    (column, row) under the screen pixel clicked (a neighbour when one image pixel is < 1 screen px)."""
    at = view.graphics.mapFromScene(view.scene_pos_of_pixel(column, row))
    mouse_drag(view.graphics.viewport(), Qt.MouseButton.LeftButton, [QPointF(at)])  # press and release
    clicked = view.image_item.mapFromScene(view.graphics.mapToScene(at))
    return math.floor(clicked.x()), math.floor(clicked.y())


def test_coronal_and_sagittal_are_drawn_with_the_slice_spacing(qtbot, window):
    study = make_hu_study(spacing_mm=(5.0, 0.5, 0.5))  # 20 slices of 5 mm, 0.5 mm pixels
    window.show_study(study)
    layout = three_views(window, qtbot)
    assert displayed_aspect(layout.coronal) == pytest.approx((N_SLICES * 5.0) / (N_COLUMNS * 0.5), rel=0.01)
    assert displayed_aspect(layout.sagittal) == pytest.approx((N_SLICES * 5.0) / (N_ROWS * 0.5), rel=0.01)
    assert not layout.coronal.note.isVisible()
    # The plane on screen is a view of the volume, not a copy of it.
    assert np.shares_memory(layout.coronal.image_item.image, study.voxels)
    assert np.array_equal(layout.coronal.image_item.image, study.voxels[:, N_ROWS // 2, :])
    # A sagittal plane is gathered into one plane-sized buffer, the volume still not copied.
    assert layout.sagittal.image_item.image.shape == (N_SLICES, N_ROWS)
    assert np.array_equal(layout.sagittal.image_item.image, study.voxels[:, :, N_COLUMNS // 2])


def test_non_square_pixels_use_the_spacing_across_each_plane(qtbot, hu_window):
    layout = three_views(hu_window, qtbot)  # (5, 0.5, 0.25) mm
    assert displayed_aspect(layout.coronal) == pytest.approx((N_SLICES * 5.0) / (N_COLUMNS * 0.25), rel=0.01)
    assert displayed_aspect(layout.sagittal) == pytest.approx((N_SLICES * 5.0) / (N_ROWS * 0.5), rel=0.01)


def test_unknown_voxel_size_is_drawn_with_a_stated_assumed_slice_step(qtbot, window):
    study = make_display_study()  # 6 slices of 40 x 50, no spacing
    window.show_study(study)
    layout = three_views(window, qtbot)
    assert displayed_aspect(layout.coronal) == pytest.approx(6 * ASSUMED_SLICE_STEP_PX / 50, rel=0.01)
    for view in (layout.coronal, layout.sagittal):
        assert view.note.isVisible()
        assert "Voxel size unknown" in view.note.text() and "assumed" in view.note.text()
    assert "voxel size unknown" in layout.coronal.graphics.position
    assert plane_scale(None, Plane.CORONAL).known is False


def test_the_layout_switch_shows_and_hides_the_reformats(qtbot, hu_window):
    layout = hu_window.three_views
    assert not layout.coronal.isVisible() and not layout.sagittal.isVisible()
    qtbot.keyClick(hu_window, Qt.Key.Key_L)
    assert layout.coronal.isVisible() and layout.sagittal.isVisible()
    assert all(line.isVisible() for line in layout.axial_lines.values())
    assert hu_window.slice_view.isVisible() and hu_window.slice_bar.isVisible()
    qtbot.keyClick(hu_window, Qt.Key.Key_L)
    assert not layout.coronal.isVisible() and not layout.sagittal.isVisible()
    assert not any(line.isVisible() for line in layout.axial_lines.values())
    assert hu_window.slice_view.isVisible()


def test_the_layout_is_remembered_for_the_next_start(qtbot, hu_window):
    qtbot.keyClick(hu_window, Qt.Key.Key_L)
    again = MainWindow(ViewerSettings())
    qtbot.addWidget(again)
    assert again.three_views.three_views
    again.show_study(make_hu_study())
    again.show()
    qtbot.waitUntil(lambda: again.three_views.coronal.image_item.sceneBoundingRect().width() > 0)
    axial, reformats = again.three_views.splitter.sizes()
    assert axial > reformats > 0


def test_a_click_in_the_axial_view_puts_all_three_on_the_same_patient_point(qtbot, window):
    study = dicom_like_study()
    window.show_study(study)
    layout = three_views(window, qtbot)
    axial = window.slice_view
    axial.set_slice(7)
    x, y = click(axial, 40, 30)
    assert (abs(x - 40), abs(y - 30)) <= (1, 1)
    assert layout.coronal.plane_index == y and layout.sagittal.plane_index == x
    voxel = (7, y, x)
    assert layout.axial_crosshair_voxel() == voxel
    assert layout.coronal.crosshair_voxel() == voxel
    assert layout.sagittal.crosshair_voxel() == voxel
    # The scanner's coordinates: slice position plus 40 columns of 0.25 mm and 30 rows of 0.5 mm.
    expected = ORIGIN + [0, 0, 35.0] + x * 0.25 * np.array(ROW_COSINES) + y * 0.5 * np.array(COLUMN_COSINES)
    for position in (layout.axial_patient_position(), layout.coronal.patient_position(),
                     layout.sagittal.patient_position()):
        assert position.frame == PATIENT_FRAME
        assert np.allclose(position.xyz, expected)


def test_a_click_in_the_coronal_view_scrolls_the_axial_view_and_moves_the_sagittal_plane(qtbot, window):
    window.show_study(dicom_like_study())
    layout = three_views(window, qtbot)
    coronal = layout.coronal
    y = coronal.plane_index
    x, z = click(coronal, 100, 15)  # column x 100, row = slice 15
    assert (abs(x - 100), z) <= (1, 15)
    assert window.slice_view.slice_index == 15
    assert layout.sagittal.plane_index == x and coronal.plane_index == y
    assert layout.crosshair() == (15, y, x)
    points = {layout.axial_patient_position(), coronal.patient_position(), layout.sagittal.patient_position()}
    assert len(points) == 1


def test_dragging_in_the_sagittal_view_and_scrolling_move_the_crosshair(qtbot, window):
    study = dicom_like_study()
    study.voxels += np.arange(N_COLUMNS, dtype=np.float32)  # every sagittal plane different
    window.show_study(study)
    layout = three_views(window, qtbot)
    sagittal = layout.sagittal
    points = [QPointF(sagittal.graphics.mapFromScene(sagittal.scene_pos_of_pixel(column, row)))
              for column, row in ((20, 3), (40, 8), (60, 12))]
    mouse_drag(sagittal.graphics.viewport(), Qt.MouseButton.LeftButton, points)
    released = sagittal.image_item.mapFromScene(sagittal.graphics.mapToScene(points[-1].toPoint()))
    y, z = math.floor(released.x()), math.floor(released.y())  # (60, 12), or a neighbour
    assert (abs(y - 60), abs(z - 12)) <= (1, 1)
    assert layout.crosshair() == (z, y, sagittal.plane_index)
    assert layout.coronal.plane_index == y
    window.slice_view.step_slices(-2)  # the axial view scrolls: the crosshair's z follows
    assert layout.coronal.crosshair_voxel()[0] == z - 2 == sagittal.crosshair_voxel()[0]
    x = sagittal.plane_index
    wheel(SimpleNamespace(slice_view=sagittal), -3)  # three notches towards the reader: 3 columns on
    assert sagittal.plane_index == x + 3 == layout.crosshair()[2]
    assert np.array_equal(sagittal.image_item.image, study.voxels[:, :, x + 3])  # the new plane


def test_dragging_the_axial_line_moves_the_sagittal_plane(qtbot, window):
    window.show_study(dicom_like_study())
    layout = three_views(window, qtbot)
    axial = window.slice_view
    _, y, x = layout.crosshair()
    start = QPointF(axial.graphics.mapFromScene(axial.scene_pos_of_pixel(x, 10)))
    end = QPointF(axial.graphics.mapFromScene(axial.scene_pos_of_pixel(x + 20, 10)))
    viewport = axial.graphics.viewport()
    # The pointer comes to rest on the line first, as a hand on a mouse does: the line takes the drag.
    send_mouse(viewport, QEvent.Type.MouseMove, start, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    mouse_drag(viewport, Qt.MouseButton.LeftButton, [start, (start + end) / 2, end])
    assert layout.crosshair()[1] == y
    assert abs(layout.sagittal.plane_index - (x + 20)) <= 1


def test_the_mask_appears_in_the_coronal_view_where_the_mask_is(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)  # slices 6-9, rows 30-49, columns 40-79
    layout = three_views(win, qtbot)
    layout.set_crosshair(8, 40, 60)
    coronal = layout.coronal
    item = coronal.overlays.item(MODEL_LAYER)
    assert item.isVisible()
    assert np.array_equal(item.image.astype(bool), plane_pixels(win.review.mask, Plane.CORONAL, 40))
    image = coronal.graphics.viewport().grab().toImage()

    def colour(column, row):
        at = coronal.graphics.mapFromScene(coronal.scene_pos_of_pixel(column, row))
        c = image.pixelColor(at)
        return c.red(), c.green(), c.blue()

    red, green, _ = colour(60, 8)  # in the bleed
    assert red - green > 40
    red, green, blue = colour(10, 8)  # the same slice, beside it: grey
    assert abs(red - green) < 8 and abs(green - blue) < 8
    layout.set_crosshair(8, 80, 60)  # a coronal plane behind the bleed
    assert not item.isVisible()
    layout.set_crosshair(8, 40, 60)
    qtbot.keyClick(win, Qt.Key.Key_O)  # the overlay switch hides it in every view
    assert not item.isVisible()


def test_a_brush_stroke_on_the_axial_view_shows_in_the_coronal_view(qtbot, segmented):
    win = segmented(make_hu_study(), mask_of=known_mask)  # nothing on row 20
    layout = three_views(win, qtbot)
    layout.set_crosshair(12, 20, 64)
    item = layout.coronal.overlays.item(MODEL_LAYER)
    assert not item.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_B)
    axial = win.slice_view
    points = [QPointF(axial.graphics.mapFromScene(axial.scene_pos_of_pixel(x, 20))) for x in (20, 40, 60)]
    with qtbot.waitSignal(win.findings_changed):
        mouse_drag(axial.graphics.viewport(), Qt.MouseButton.LeftButton, points)
    assert win.review.mask[12, 20, 30:50].all()
    assert item.isVisible()
    assert np.array_equal(item.image.astype(bool), plane_pixels(win.review.mask, Plane.CORONAL, 20))


def test_the_reformats_show_the_axial_window(qtbot, hu_window):
    layout = three_views(hu_window, qtbot)
    qtbot.keyClick(hu_window, Qt.Key.Key_4)  # bone
    levels = list(hu_window.slice_view.image_item.getLevels())
    assert list(layout.coronal.image_item.getLevels()) == levels == list(layout.sagittal.image_item.getLevels())


def test_patient_point_without_geometry_is_voxels_times_spacing(hu_study):
    point = patient_point(hu_study, 7, 30, 40)
    assert point.xyz == (40 * 0.25, 30 * 0.5, 7 * 5.0)


def test_reformats_put_the_head_up_and_say_which_side_is_which(qtbot, window):
    study = dicom_like_study()
    assert plane_edge_letters(study, Plane.CORONAL) == EdgeLetters(left="R", right="L", top="H", bottom="F")
    assert plane_edge_letters(study, Plane.SAGITTAL) == EdgeLetters(left="A", right="P", top="H", bottom="F")
    # Slices stored from the vertex down: drawn upside down, so that the head is still up.
    descending = dicom_like_study(descending=True)
    assert not slices_ascend_to_head(descending)
    assert plane_edge_letters(descending, Plane.CORONAL).top == "H"
    window.show_study(descending)
    layout = three_views(window, qtbot)
    assert layout.coronal.view_box.yInverted() and layout.coronal.letters["top"].text() == "H"
    first = layout.coronal.graphics.mapFromScene(layout.coronal.scene_pos_of_pixel(0, 0)).y()
    last = layout.coronal.graphics.mapFromScene(layout.coronal.scene_pos_of_pixel(0, N_SLICES - 1)).y()
    assert first < last  # the first slice, the one towards the head here, is drawn at the top
