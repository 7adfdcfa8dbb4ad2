"""Cine: play the axial stack at a rate the reader sets, looping, as Weasis and Horos do."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QSpinBox

DEFAULT_RATE = 10  # slices per second: about the pace of a reader scrolling through with the wheel
RATE_RANGE = (1, 60)


class Cine(QObject):
    """Steps a SliceView forward at `rate` slices per second, from the last slice back to the first."""

    playing_changed = Signal(bool)

    def __init__(self, view, rate: int = DEFAULT_RATE) -> None:
        super().__init__(view)
        self._view = view
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.step)
        self.set_rate(rate)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def rate(self) -> int:
        return self._rate

    def set_rate(self, rate: int) -> None:
        self._rate = min(max(int(rate), RATE_RANGE[0]), RATE_RANGE[1])
        self._timer.setInterval(round(1000 / self._rate))

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self._view.study is not None and self._view.study.n_slices > 1:
            self._timer.start()
            self.playing_changed.emit(True)

    def stop(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def step(self) -> None:
        study = self._view.study
        if study is None:
            self.stop()
            return
        self._view.set_slice((self._view.slice_index + 1) % study.n_slices)


def rate_box(cine: Cine) -> QSpinBox:
    """The toolbar's rate, in slices per second."""
    box = QSpinBox(minimum=RATE_RANGE[0], maximum=RATE_RANGE[1], suffix=" /s")
    box.setPrefix("Cine ")
    box.setToolTip("Cine rate in slices per second (Space plays / stops)")
    box.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the viewer
    box.setValue(cine.rate)
    box.valueChanged.connect(cine.set_rate)
    return box
