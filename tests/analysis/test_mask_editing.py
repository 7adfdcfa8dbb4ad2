"""Brush and eraser strokes on the model's mask, undo / redo per stroke, reset (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.analysis.mask_editing import MAX_UNDO_STEPS, MaskEditor, paint_segment


def empty(shape=(3, 20, 30)) -> np.ndarray:
    return np.zeros(shape, bool)


def test_a_click_paints_a_disk_of_the_given_radius_around_the_pixel():
    slice_mask = np.zeros((20, 20), bool)
    paint_segment(slice_mask, (10.5, 10.5), (10.5, 10.5), radius=1, value=True)
    # Radius 1 from a pixel centre: the pixel and its four neighbours (the diagonals are 1.41 away).
    assert slice_mask.sum() == 5 and slice_mask[10, 9:12].all() and slice_mask[9:12, 10].all()
    paint_segment(slice_mask, (4.5, 4.5), (4.5, 4.5), radius=2, value=True)
    assert slice_mask[2:7, 2:7].sum() == 13  # the 13 pixel centres within 2 of (4.5, 4.5)


def test_a_drag_covers_the_path_between_mouse_positions_without_gaps():
    slice_mask = np.zeros((10, 40), bool)
    paint_segment(slice_mask, (2.5, 5.5), (35.5, 5.5), radius=1, value=True)
    assert slice_mask[5, 2:36].all()  # every pixel along the way, not only the two ends
    assert slice_mask[4, 2:36].all() and slice_mask[6, 2:36].all()
    assert not slice_mask[3].any() and not slice_mask[7].any()


def test_a_brush_partly_or_fully_off_the_image_is_clipped():
    slice_mask = np.zeros((10, 10), bool)
    paint_segment(slice_mask, (0.5, 0.5), (0.5, 0.5), radius=1, value=True)
    assert slice_mask.sum() == 3
    paint_segment(slice_mask, (-50, -50), (-40, -40), radius=2, value=True)
    assert slice_mask.sum() == 3


def test_brush_adds_and_eraser_removes_on_one_slice_only():
    model = empty()
    model[1, 5:10, 5:10] = True
    editor = MaskEditor(model)
    editor.begin_stroke(1, (20.5, 10.5), radius=2)
    editor.extend_stroke((25.5, 10.5))
    assert editor.end_stroke()
    assert editor.mask[1].sum() == 25 + (13 + 5 * 5)  # disk + the swept band (5 px tall)
    assert not editor.mask[0].any() and not editor.mask[2].any()
    editor.begin_stroke(1, (7.5, 7.5), radius=1, erase=True)
    assert editor.end_stroke()
    assert not editor.mask[1, 7, 7] and editor.mask[1, 5, 5]


def test_the_model_mask_is_never_written():
    model = empty()
    before = model.copy()
    editor = MaskEditor(model)
    editor.begin_stroke(0, (3.5, 3.5), radius=3)
    editor.end_stroke()
    assert np.array_equal(model, before) and editor.is_edited
    assert not np.shares_memory(editor.mask, model)


def test_undo_and_redo_go_one_stroke_at_a_time():
    editor = MaskEditor(empty())
    states = [editor.mask.copy()]
    for x in (5.5, 15.5):
        editor.begin_stroke(2, (x, 5.5), radius=2)
        editor.extend_stroke((x + 3, 5.5))
        editor.end_stroke()
        states.append(editor.mask.copy())
    assert editor.undo() == [2]
    assert np.array_equal(editor.mask, states[1])
    assert editor.undo() == [2]
    assert np.array_equal(editor.mask, states[0]) and not editor.is_edited
    assert editor.undo() == [] and not editor.can_undo
    assert editor.redo() == [2] and editor.redo() == [2]
    assert np.array_equal(editor.mask, states[2])
    assert editor.redo() == [] and not editor.can_redo


def test_a_new_stroke_after_undo_drops_the_redo_steps():
    editor = MaskEditor(empty())
    editor.begin_stroke(0, (5.5, 5.5), radius=2)
    editor.end_stroke()
    editor.undo()
    editor.begin_stroke(0, (15.5, 5.5), radius=2)
    editor.end_stroke()
    assert not editor.can_redo


def test_a_stroke_that_changes_nothing_is_no_undo_step():
    model = empty()
    model[0] = True
    editor = MaskEditor(model)
    editor.begin_stroke(0, (5.5, 5.5), radius=2)  # painting where the mask already is
    assert not editor.end_stroke()
    assert not editor.can_undo


def test_reset_returns_to_the_model_output_and_can_be_undone():
    model = empty()
    model[0, 2:6, 2:6] = True
    editor = MaskEditor(model)
    editor.begin_stroke(0, (3.5, 3.5), radius=2, erase=True)
    editor.end_stroke()
    editor.begin_stroke(2, (20.5, 10.5), radius=3)
    editor.end_stroke()
    edited = editor.mask.copy()
    assert editor.reset() == [0, 2]
    assert np.array_equal(editor.mask, model) and not editor.is_edited
    assert editor.undo() == [0, 2]
    assert np.array_equal(editor.mask, edited)
    assert MaskEditor(model).reset() == []  # nothing to reset: no step


def test_undo_history_is_bounded():
    editor = MaskEditor(empty((1, 4, 4)))
    for i in range(MAX_UNDO_STEPS + 5):
        editor.begin_stroke(0, (1.5, 1.5), radius=1, erase=bool(i % 2))
        editor.end_stroke()
    undone = 0
    while editor.undo():
        undone += 1
    assert undone == MAX_UNDO_STEPS


def test_bad_strokes_are_refused():
    editor = MaskEditor(empty())
    with pytest.raises(IndexError):
        editor.begin_stroke(3, (1, 1), radius=1)
    with pytest.raises(ValueError):
        editor.begin_stroke(0, (1, 1), radius=0)
    editor.extend_stroke((5, 5))  # no stroke in progress: ignored
    assert not editor.is_edited
