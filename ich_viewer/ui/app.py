"""Start the viewer: QApplication, the main window, then the study.

The window is shown first and the study opened from the event loop, so the
reader sees the program at once. Nothing here imports TensorFlow.

Benchmark hook: with ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT=1 the program
prints one line at the first paint of a slice and quits:
    first_paint_s=<seconds> tensorflow_imported=<bool>
With ICH_VIEWER_BENCH_WAIT_FOR_FINDINGS=1 as well, it goes on until the
model's findings are on screen and prints `findings_s=<seconds>` first.
With ICH_VIEWER_BENCH_OPEN_SAMPLE_AFTER_S=<s>, the sample is opened only after
that long with no study (the reader in the file dialog; the model warms up
meanwhile), and `opened_s=<seconds>` is printed when it is.
Seconds are counted from ICH_VIEWER_BENCH_T0 (a time.time() stamp taken by
the parent just before it started this process) when given, else from
interpreter start as far as this process can tell.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from ich_viewer import paths
from ich_viewer.ui.main_window import APP_TITLE, MainWindow
from ich_viewer.ui.session_log import start_session_log
from ich_viewer.ui.settings import APPLICATION, ORGANIZATION

BENCH_EXIT_ENV = "ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT"
BENCH_T0_ENV = "ICH_VIEWER_BENCH_T0"
BENCH_FINDINGS_ENV = "ICH_VIEWER_BENCH_WAIT_FOR_FINDINGS"
BENCH_OPEN_AFTER_ENV = "ICH_VIEWER_BENCH_OPEN_SAMPLE_AFTER_S"
SAMPLE_PATIENT = "066"


def sample_study_path() -> Path:
    return paths.sample_study_dir() / SAMPLE_PATIENT


def configure_pyqtgraph() -> None:
    # Arrays are (z, y, x): row-major means no transposes anywhere.
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_TITLE)
    configure_pyqtgraph()
    return app


def run_viewer(path: str | None = None, sample: bool = False) -> int:
    """The `view` command: show the window, then open PATH or the sample study."""
    app = make_application()
    start_session_log()  # after the application is named: the user data folder is named after it
    open_after = os.environ.get(BENCH_OPEN_AFTER_ENV)
    window = start_viewer(path, sample and not open_after)
    if os.environ.get(BENCH_EXIT_ENV):
        _FirstPaintProbe(window, app)
    if open_after:
        QTimer.singleShot(round(1000 * float(open_after)), lambda: _open_sample_late(window))
    return app.exec()


def _open_sample_late(window: MainWindow) -> None:
    print(f"opened_s={time.time() - _process_start():.3f}", flush=True)
    window.open_study(sample_study_path(), ask_spacing=False)


def start_viewer(path: str | None = None, sample: bool = False) -> MainWindow:
    """Show the main window and open the study from the event loop (tests stop here)."""
    window = MainWindow()
    window.show()
    target = sample_study_path() if sample else path
    if target:
        # The sample's voxel size is not known; do not ask about it on a demo.
        QTimer.singleShot(0, lambda: window.open_study(target, ask_spacing=not sample))
    return window


class _FirstPaintProbe(QObject):
    """Benchmark only: report the time to the first painted slice, then quit."""

    def __init__(self, window: MainWindow, app: QApplication) -> None:
        super().__init__(window)
        self._window, self._app = window, app
        self._done = False
        window.slice_view.graphics.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._window.study is not None and not self._done:
            self._done = True
            # Report after this paint has completed.
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        elapsed = time.time() - _process_start()
        print(f"first_paint_s={elapsed:.3f} tensorflow_imported={'tensorflow' in sys.modules}", flush=True)
        if os.environ.get(BENCH_FINDINGS_ENV):
            self._wait_for_findings()
        else:
            self._quit()

    def _wait_for_findings(self) -> None:
        if self._window.review is None:
            QTimer.singleShot(10, self._wait_for_findings)
            return
        print(f"findings_s={time.time() - _process_start():.3f}", flush=True)
        self._quit()

    def _quit(self) -> None:
        self._window.close()
        self._app.quit()


def _process_start() -> float:
    stamp = os.environ.get(BENCH_T0_ENV)
    if stamp:
        return float(stamp)
    try:  # Linux: the process start time from /proc, in clock ticks since boot
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time() - time.process_time()
