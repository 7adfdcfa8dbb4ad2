"""Qt helpers of the GUI tests: mouse and wheel events, and the check for QThreads left running.

The synthetic studies and the fake network are in tests/factories (viewer_studies, fakes).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QThread
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def running_qthreads(threads) -> list[QThread]:
    alive = []
    for ref in threads:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                alive.append(thread)
        except RuntimeError:  # the C++ object is already gone: not running
            pass
    return alive


def send_mouse(viewport, kind, pos: QPointF, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
    QApplication.sendEvent(viewport, QMouseEvent(kind, pos, global_pos, button, buttons, modifiers))


def wheel(window, notches: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Roll the mouse wheel over the middle of the slice view (positive: away from the reader)."""
    viewport = window.slice_view.graphics.viewport()
    pos = QPointF(viewport.rect().center())
    event = QWheelEvent(
        pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(viewport, event)


def mouse_drag(viewport, button, points: list[QPointF]) -> None:
    """Press at points[0], move through the others, release at the last."""
    send_mouse(viewport, QEvent.Type.MouseButtonPress, points[0], button, button)
    for pos in points[1:]:
        QTest.qWait(12)  # pyqtgraph drops mouse moves closer than 10 ms apart
        send_mouse(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, button)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton)
