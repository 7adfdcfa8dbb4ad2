"""Starting the viewer, the dangling-thread check, and the PySide6 6.12.0 regression."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ich_viewer.ui.app import start_viewer
from tests.ui.ui_support import running_qthreads


def test_viewer_on_a_bad_path_reports_it_and_stays_up(monkeypatch, tmp_path, qtbot):
    # start_viewer is run_viewer without app.exec(): a finished exec() would stop
    # every QThread event loop started by later tests in this process.
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text))
    window = start_viewer(path=str(tmp_path / "no-such-study"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: len(shown) == 1)
    assert "no-such-study" in shown[0]
    assert window.isVisible()


def test_the_viewer_modules_do_not_import_tensorflow():
    """The window must open before TensorFlow loads: only the worker imports it, lazily."""
    code = ("import sys, ich_viewer.ui.app, ich_viewer.ui.main_window, ich_viewer.ui.worker; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_thread_check_sees_a_running_qthread():
    from weakref import ref

    thread = QThread()
    thread.start()
    try:
        assert running_qthreads([ref(thread)]) == [thread]
    finally:
        thread.quit()
        thread.wait(2000)
    assert running_qthreads([ref(thread)]) == []


class _Emitter(QObject):
    fired = Signal()


class _Painted(QWidget):
    def paintEvent(self, event):
        pass


def test_thousands_of_emits_and_paints_do_not_abort_the_interpreter(qtbot):
    """PySide6 6.12.0 dropped a reference to True per emit and to None per Python paintEvent
    (pyproject excludes it); this catches such a release coming back."""
    true_refs, none_refs = sys.getrefcount(True), sys.getrefcount(None)
    emitter, widget = _Emitter(), _Painted()
    qtbot.addWidget(widget)
    widget.show()
    for _ in range(5000):
        emitter.fired.emit()
    for _ in range(3000):
        widget.repaint()
    assert sys.getrefcount(True) > true_refs - 1000
    assert sys.getrefcount(None) > none_refs - 1000
