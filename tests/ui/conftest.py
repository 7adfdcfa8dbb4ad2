"""GUI test setup: isolated settings, row-major pyqtgraph, no QThread left running."""

from __future__ import annotations

import weakref

import pytest
from PySide6.QtCore import QSettings, QThread, QThreadPool

from ich_viewer.study.model import Study
from ich_viewer.ui import main_window
from ich_viewer.ui.app import configure_pyqtgraph
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.fakes import fake_engine
from tests.factories.viewer_studies import make_hu_study
from tests.ui.ui_support import running_qthreads


@pytest.fixture(scope="session", autouse=True)
def _pyqtgraph_row_major():
    configure_pyqtgraph()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path):
    """Every test writes its own ini files, never the reader's real settings."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path, monkeypatch):
    """Autosaved edits go to the test's own folder, never the reader's data folder."""
    folder = tmp_path / "user_data"
    monkeypatch.setenv("ICH_VIEWER_USER_DATA", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_blocking_message_boxes(monkeypatch):
    """A message box nobody expected would wait for a click forever (offscreen, in CI):
    fail at once with its text instead. Tests that expect one replace these again."""
    from PySide6.QtWidgets import QMessageBox

    def unexpected(kind):
        def show(parent, title, text, *args, **kwargs):
            raise AssertionError(f"unexpected {kind} message box: {title}: {text}")
        return show

    for kind in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, unexpected(kind))


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch, qapp):
    """Fail a test that leaves a QThread (or a QThreadPool task) running, as napari does."""
    started: list[weakref.ref] = []
    original_start = QThread.start

    def recording_start(self, *args, **kwargs):
        started.append(weakref.ref(self))
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    alive = running_qthreads(started)
    pool_busy = QThreadPool.globalInstance().activeThreadCount()
    for thread in alive:  # stop them so that later tests are not disturbed
        thread.quit()
        thread.wait(2000)
    assert not alive, f"test left QThreads running: {alive}"
    assert not pool_busy, f"test left {pool_busy} QThreadPool task(s) running"


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    """A window made without an engine_factory gets a fake network: no TensorFlow in GUI tests."""
    monkeypatch.setattr(main_window, "default_engine_factory", fake_engine())


@pytest.fixture
def hu_study() -> Study:
    return make_hu_study()


def discard_edits_at_close(win: MainWindow) -> None:
    """qtbot closes the windows after the test: edits left on screen are then discarded without
    the Save / Discard / Cancel prompt (tests of that prompt answer it before they end)."""
    win.ask_unsaved_edits = lambda doing: main_window.DISCARD


@pytest.fixture
def window(qtbot):
    """The viewer with automatic segmentation off: these tests look at the study alone."""
    settings = ViewerSettings()
    settings.auto_segment = False
    win = MainWindow(settings)
    qtbot.addWidget(win, before_close_func=discard_edits_at_close)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    return win


@pytest.fixture
def hu_window(window, hu_study):
    window.show_study(hu_study)
    return window


@pytest.fixture
def make_window(qtbot):
    """A shown viewer segmenting with the given fake network (automatically, unless auto=False)."""
    def make(engine_factory=None, auto: bool = True) -> MainWindow:
        settings = ViewerSettings()
        settings.auto_segment = auto
        win = MainWindow(settings, engine_factory=engine_factory or fake_engine())
        qtbot.addWidget(win, before_close_func=discard_edits_at_close)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        return win
    return make


@pytest.fixture
def segmented(make_window, qtbot):
    """Open a study in a new viewer and wait for its segmentation: segmented(study, **engine options)."""
    def open_segmented(study: Study, **engine_options) -> MainWindow:
        win = make_window(fake_engine(**engine_options))
        with qtbot.waitSignal(win.findings_changed, timeout=5000):
            win.show_study(study)
        return win
    return open_segmented
