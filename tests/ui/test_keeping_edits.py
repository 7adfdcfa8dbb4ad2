"""The reader's edits are work to keep: Save / Discard / Cancel, autosave after every stroke, restore.

A kill -9 in the middle of a stroke loses that stroke and nothing before it:
tested with a real session in a subprocess (crash_session.py) that is killed.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from ich_viewer.atomic import ExportError
from ich_viewer.study.model import StudyMetadata
from ich_viewer.ui import main_window
from ich_viewer.ui.autosave import AutosaveStore, study_identity
from tests.factories.viewer_studies import known_mask, make_display_study, make_hu_study

STROKE_SLICE = 12  # no model outline here
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def win(segmented):
    return segmented(make_hu_study(), mask_of=known_mask)


def paint(win, y: float, erase: bool = False) -> None:
    """One stroke through the slice view's own signals, as a mouse drag sends them."""
    win.actions_by_name["eraser" if erase else "brush"].setChecked(True)
    view = win.slice_view
    view.set_slice(STROKE_SLICE)
    view.stroke_started.emit(QPointF(20, y))
    view.stroke_moved.emit(QPointF(60, y))
    view.stroke_finished.emit()


def answering(win, answer: str) -> list[str]:
    """Replace the Save / Discard / Cancel question; returns what was asked."""
    asked: list[str] = []
    win.ask_unsaved_edits = lambda doing: asked.append(doing) or answer
    return asked


def saved(win):
    return win.autosave.read(study_identity(win.study))


def test_opening_another_study_asks_and_cancel_keeps_everything(win, monkeypatch):
    paint(win, 20)
    edited, review, study = win.review.mask.copy(), win.review, win.study
    asked = answering(win, main_window.CANCEL)
    assert win.show_study(make_hu_study()) is False
    monkeypatch.setattr(win.opener, "open", lambda *a, **k: pytest.fail("opened despite Cancel"))
    assert win.open_study("/somewhere/else") is False
    assert asked == ["opening another study", "opening another study"]
    assert win.study is study and win.review is review
    assert np.array_equal(win.review.mask, edited) and win.isWindowModified()


def test_segmenting_again_asks_and_discard_throws_the_edits_away(qtbot, win):
    paint(win, 20)
    assert saved(win) is not None
    asked = answering(win, main_window.CANCEL)
    qtbot.keyClick(win, Qt.Key.Key_S)
    assert asked == ["segmenting again"] and not win.segmentation.running and win.review.edited
    answering(win, main_window.DISCARD)
    with qtbot.waitSignal(win.findings_changed, timeout=5000):
        qtbot.keyClick(win, Qt.Key.Key_S)
    assert not win.review.edited and saved(win) is None


def test_quitting_asks_cancel_keeps_the_window_and_save_keeps_the_edits(win):
    paint(win, 20)
    asked = answering(win, main_window.CANCEL)
    win.close()
    assert win.isVisible() and asked == ["quitting"]
    answering(win, main_window.SAVE)
    win.close()
    assert not win.isVisible()
    kept = saved(win)
    assert kept.kept_by_reader and np.array_equal(kept.mask, win.review.mask)


def test_unedited_reviews_close_without_a_question(win):
    asked = answering(win, main_window.CANCEL)
    win.close()
    assert not win.isVisible() and asked == []


def test_every_stroke_is_written_with_its_provenance_outside_the_study_folder(win, isolated_user_data):
    paint(win, 20)
    paint(win, 40)
    paint(win, 20, erase=True)
    kept = saved(win)
    assert np.array_equal(kept.mask, win.review.mask)
    assert np.array_equal(kept.model_mask, win.review.result.mask)
    history = kept.provenance["history"]
    assert [step["action"] for step in history] == ["paint", "paint", "erase"]
    assert history[0]["slices"] == [STROKE_SLICE] and history[0]["voxels_added"] > 0
    assert history[2]["voxels_erased"] == history[0]["voxels_added"]  # the same path, erased
    assert all("at" in step for step in history)
    assert kept.provenance["model"]["name"] == "fake" and not kept.kept_by_reader
    path = win.autosave.path_for(study_identity(win.study))
    assert isolated_user_data in path.parents
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_undoing_every_edit_forgets_the_saved_file(qtbot, win):
    paint(win, 20)
    win.actions_by_name["undo"].trigger()
    assert not win.review.edited and saved(win) is None


def test_a_rejected_lesion_is_an_edit_that_is_saved_and_undone(win):
    assert len(win.review.findings.lesions) == 1
    win.findings_panel.lesion_table.cellWidget(0, 5).findChild(object, "reject_1").click()
    assert not win.review.mask.any() and win.review.findings.lesions == []
    assert saved(win).provenance["history"][-1]["action"] == "reject lesion"
    win.actions_by_name["undo"].trigger()
    assert np.array_equal(win.review.mask, win.review.result.mask)


def test_accepting_a_lesion_is_recorded_and_survives_a_restore(win, segmented):
    win.findings_panel.lesion_table.cellWidget(0, 5).findChild(object, "accept_1").click()
    assert win.review.accepted_numbers() == {1}
    assert saved(win).provenance["history"][-1]["action"] == "accept lesion"
    later = reopened(segmented, main_window.RESTORE)
    assert later.review.accepted_numbers() == {1}


def test_clicking_a_lesion_shows_its_largest_slice(qtbot, win):
    table = win.findings_panel.lesion_table
    win.slice_view.set_slice(0)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(0, 1)).center())
    assert win.slice_view.slice_index == win.review.findings.lesions[0].largest_area_slice


def reopened(segmented, answer: str):
    """A new window on the same study (a later session), answering the restore offer."""
    offered = []

    def ask(self, saved_edits):
        offered.append(saved_edits)
        return answer

    original = main_window.MainWindow.ask_restore
    main_window.MainWindow.ask_restore = ask
    try:
        later = segmented(make_hu_study(), mask_of=known_mask)
    finally:
        main_window.MainWindow.ask_restore = original
    later.offered = offered
    return later


def test_reopening_offers_the_edits_and_restores_the_exact_mask(win, segmented):
    paint(win, 20)
    paint(win, 50)
    edited = win.review.mask.copy()
    later = reopened(segmented, main_window.RESTORE)
    assert len(later.offered) == 1
    assert np.array_equal(later.review.mask, edited) and later.isWindowModified()
    assert later.review.history[-1]["action"] == "restore edits"
    later.actions_by_name["undo"].trigger()  # restoring is one undoable step
    assert np.array_equal(later.review.mask, later.review.result.mask)


def test_discarding_the_offer_deletes_and_later_keeps(win, segmented):
    paint(win, 20)
    kept = reopened(segmented, main_window.LATER)
    assert not kept.review.edited and saved(kept) is not None
    gone = reopened(segmented, main_window.DISCARD)
    assert not gone.review.edited and saved(gone) is None


def test_study_identity_is_the_dicom_uids_or_the_image_content():
    dicom = make_hu_study(metadata=StudyMetadata(study_instance_uid="1.2.3", series_instance_uid="1.2.3.4"))
    assert study_identity(dicom) == "dicom:1.2.3/1.2.3.4"
    moved = make_display_study(source=Path("/elsewhere"))
    assert study_identity(moved) == study_identity(make_display_study())  # the same images, moved
    other = make_display_study(voxels=np.full((6, 40, 50), 7, np.float32))
    assert study_identity(other) != study_identity(make_display_study())


def test_edits_are_never_written_into_the_study_folder(tmp_path, win):
    win.review.study.source = tmp_path
    store = AutosaveStore(tmp_path / "inside")
    paint(win, 20)
    with pytest.raises(ExportError, match="study's own folder"):
        store.write(win.review, "some study")


def read_line(process, timeout_s: float = 120) -> str:
    """The next line the session prints (the timeout only stops a hung session; nothing is timed)."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            process.kill()
            pytest.fail("the session printed nothing")
    return process.stdout.readline().strip()


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_session_killed_mid_stroke_loses_only_that_stroke(tmp_path, segmented):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    session = subprocess.Popen([sys.executable, "-m", "tests.ui.crash_session", str(tmp_path), "3"],
                               stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        lines = [read_line(session) for _ in range(4)]
        assert lines == ["stroke 1", "stroke 2", "stroke 3", "mid-stroke"]
        session.send_signal(signal.SIGKILL)
        assert session.wait(timeout=60) == -signal.SIGKILL
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
        session.stdout.close()
    expected = np.load(tmp_path / "expected.npy")
    later = reopened(segmented, main_window.RESTORE)
    assert later.offered and not later.offered[0].kept_by_reader  # kept by the autosave alone
    assert np.array_equal(later.review.mask, expected)
    history = later.review.history
    assert [step["action"] for step in history] == ["paint", "paint", "paint", "restore edits"]
    assert json.dumps(history)  # the provenance stays plain JSON


@pytest.mark.parametrize("ask, saved, label, expected", [
    ("ask_restore", True, "Restore", main_window.RESTORE),
    ("ask_restore", False, "Discard", main_window.DISCARD),
    ("ask_restore", True, "Cancel", main_window.LATER),
    ("ask_unsaved_edits", None, "Save", main_window.SAVE),
    ("ask_unsaved_edits", None, "Discard", main_window.DISCARD),
    ("ask_unsaved_edits", None, "Cancel", main_window.CANCEL),
])
def test_the_real_questions_show_their_buttons_and_give_the_answer_clicked(window, qtbot, ask, saved, label,
                                                                           expected):
    from types import SimpleNamespace

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        labels = [b.text().replace("&", "") for b in box.buttons()]
        assert label in labels and len(labels) == 3, labels
        next(b for b in box.buttons() if b.text().replace("&", "") == label).click()

    QTimer.singleShot(0, click)
    argument = SimpleNamespace(saved_at="2026-12-03 10:00", kept_by_reader=saved) if ask == "ask_restore" \
        else "closing the study"
    assert getattr(window, ask)(argument) == expected
