"""Quality-control warnings: what is wrong with a study's input, and which files it concerns.

A warning's text never names a file. File and folder names often carry the
patient's name or ID, so they travel apart, in `files`: the viewer and the
named report show both, the anonymised report the text alone. Nothing needs
scrubbing, because no identifier was ever written into the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ich_viewer.study.files import name_list


class QcKind(str, Enum):
    """What a warning is about (a str Enum: each kind also equals its value, "missing slices")."""

    SKIPPED_FILES = "skipped files"  # unreadable, damaged, not an image, a mask without its slice
    MISMATCHED_SLICES = "mismatched slices"  # another size or orientation than the series (a localizer?)
    DUPLICATE_POSITIONS = "duplicate positions"  # two images at one slice location
    MISSING_SLICES = "missing slices"  # gaps between positions, holes in the CT-ICH numbering
    UNEVEN_SPACING = "uneven spacing"
    SLICE_ORDER = "slice order"  # no positions to sort by: InstanceNumber or file order
    TILT = "gantry tilt"
    MISSING_TAGS = "missing tags"  # geometry, PixelSpacing or rescale tags absent
    VOXEL_SPACING = "voxel spacing"  # unknown, impossible, entered by the user, or taken from a tag
    MODALITY = "modality"  # not CT
    BIT_DEPTH = "bit depth"  # 16-bit images where 8-bit display values were expected
    EXPORT_WINDOW = "export window"  # the window 8-bit images were rendered with is uncertain
    BONE_WINDOW = "bone window"  # CT-ICH slices without their bone-window image
    OTHER_SERIES = "other series"  # the folder holds more series than the one shown


@dataclass(frozen=True)
class QcWarning:
    """One problem found while reading a study.

    kind   what it is about.
    text   the sentence for the reader; it never names a file, so it may go anywhere.
    files  the files concerned, as the reader knows them (relative to what was opened).
    """

    kind: QcKind
    text: str
    files: tuple[str, ...] = ()

    def __str__(self) -> str:
        """The line the viewer lists: the text, then the files it concerns."""
        if not self.files:
            return self.text
        label = "File" if len(self.files) == 1 else "Files"
        return f"{self.text} {label}: {name_list(self.files)}."

    def for_report(self, anonymised: bool) -> str:
        """The line for the PDF report: without the file names when anonymised."""
        return self.text if anonymised else str(self)


def skipped_file_warnings(
    problems: Iterable[tuple[str, str]],
    verb: str = "Skipped",
    kind: QcKind = QcKind.SKIPPED_FILES,
) -> list[QcWarning]:
    """One warning per kind of problem, with the files it struck: [(file name, problem)].

    A problem is a short phrase that names no file ("permission denied").
    """
    by_problem: dict[str, list[str]] = {}
    for name, problem in problems:
        by_problem.setdefault(problem, []).append(name)
    return [QcWarning(kind, _skipped_text(verb, problem, len(names)), tuple(names))
            for problem, names in by_problem.items()]


def _skipped_text(verb: str, problem: str, count: int) -> str:
    if count == 1:
        return f"{verb} 1 file: {problem}."
    return f"{verb} {count} files ({problem})."
