"""Window / level: the study's named windows and the toolbar control that picks them.

HU studies get the presets (number keys 1..4) and the windows stored in the
DICOM (key 5 onwards) with level / width boxes; 8-bit image studies are
already windowed, so they only get a min / max contrast stretch on 0..255.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ich_viewer.study.model import DISPLAY_FULL_RANGE, HU_PRESETS, Study, Window

CUSTOM = "Custom"
HU_LEVEL_RANGE = (-1024, 3071)
HU_WIDTH_RANGE = (1, 6000)
DISPLAY_RANGE = (0, 255)

NamedWindows = list[tuple[str, Window]]


def study_windows(study: Study) -> NamedWindows:
    """The windows offered for a study, in number-key order."""
    if not study.is_hu:
        return [("Full range", DISPLAY_FULL_RANGE)]
    named = list(HU_PRESETS.items())
    several = len(study.dicom_windows) > 1
    for i, window in enumerate(study.dicom_windows, start=1):
        named.append((f"DICOM {i}" if several else "DICOM", window))
    return named


def window_name(windows: NamedWindows, window: Window) -> str:
    for name, candidate in windows:
        if candidate == window:
            return name
    return CUSTOM


def describe_window(window: Window, name: str, hu: bool) -> str:
    """The text a reader expects: 'Subdural  L 75  W 215' or 'Contrast 0-255'."""
    if hu:
        return f"{name}  L {window.level:g}  W {window.width:g}"
    return f"Contrast {window.low:g}–{window.high:g}"


class WindowControl(QWidget):
    """Preset list plus two number boxes: level/width (HU) or min/max (8-bit)."""

    window_chosen = Signal(object)  # Window

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._windows: NamedWindows = []
        self._hu = True
        self.presets = QComboBox(toolTip="Window presets (keys 1–5)")
        self.presets.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._first_label, self._second_label = QLabel(), QLabel()
        self.first, self.second = QSpinBox(), QSpinBox()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Window"))
        layout.addWidget(self.presets)
        for label, box in ((self._first_label, self.first), (self._second_label, self.second)):
            # Apply a typed value only when complete, not 2 then 21 then 215.
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_boxes)
            layout.addWidget(label)
            layout.addWidget(box)
        self.presets.activated.connect(self._on_preset)
        self.set_windows([], hu=True)

    def set_windows(self, windows: NamedWindows, hu: bool) -> None:
        self._windows, self._hu = windows, hu
        self.presets.clear()
        for i, (name, _) in enumerate(windows, start=1):
            self.presets.addItem(f"{i}  {name}" if i <= 5 else name)
        self.presets.addItem(CUSTOM)
        low, high = (HU_LEVEL_RANGE, HU_WIDTH_RANGE) if hu else (DISPLAY_RANGE, DISPLAY_RANGE)
        self._first_label.setText("L" if hu else "Min")
        self._second_label.setText("W" if hu else "Max")
        self.first.setRange(*low)
        self.second.setRange(*high)
        self.setEnabled(bool(windows))

    def show_window(self, window: Window) -> None:
        """Reflect the view's window without echoing it back as a new choice."""
        name = window_name(self._windows, window)
        first, second = (window.level, window.width) if self._hu else (window.low, window.high)
        for widget in (self.presets, self.first, self.second):
            widget.blockSignals(True)
        self.presets.setCurrentIndex(self._preset_index(name))
        self.first.setValue(round(first))
        self.second.setValue(round(second))
        for widget in (self.presets, self.first, self.second):
            widget.blockSignals(False)

    def _preset_index(self, name: str) -> int:
        names = [n for n, _ in self._windows]
        return names.index(name) if name in names else len(names)

    def _on_preset(self, index: int) -> None:
        if index < len(self._windows):
            self.window_chosen.emit(self._windows[index][1])

    def _on_boxes(self) -> None:
        a, b = self.first.value(), self.second.value()
        if self._hu:
            self.window_chosen.emit(Window(a, b))
        else:
            low, high = min(a, b), max(a, b)
            self.window_chosen.emit(Window((low + high) / 2, max(high - low, 1)))
