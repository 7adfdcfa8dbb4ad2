"""The reading of one study: the model's result, the reader's edits of it, and what they measure.

Qt-free so that the window only shows it. The model's SegmentationResult is
never changed: the reader edits a copy of its mask (MaskEditor), and the
findings, the edit summary and every export use that copy, which equals the
model's mask until the reader paints.

Every step the reader takes (a stroke, undo, redo, reset, a lesion accepted
or rejected, edits restored) is kept in `history` with its time and the
voxels it added and erased: the provenance the autosave writes beside the mask.
After each change it measures again and tells its `listeners` (the window's views).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ich_viewer.analysis import (
    HemorrhageFindings,
    Lesion,
    MaskEdits,
    compare_masks,
    compute_study_findings,
    lesion_region,
)
from ich_viewer.analysis.mask_editing import MaskEditor
from ich_viewer.segmentation.postprocessing import label_lesions
from ich_viewer.segmentation.result import SegmentationResult
from ich_viewer.study.model import Study


def now_text() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass
class Review:
    study: Study
    result: SegmentationResult
    editor: MaskEditor
    findings: HemorrhageFindings = field(init=False)
    edits: MaskEdits = field(init=False)
    history: list[dict] = field(default_factory=list)
    # Voxels of the lesions the reader confirmed: a lesion containing one is shown as accepted.
    accepted_seeds: list[tuple[int, int, int]] = field(default_factory=list)
    # Called with the review after every change, once its findings are measured again.
    listeners: list[Callable[[Review], None]] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.remeasure()

    @classmethod
    def of(cls, study: Study, result: SegmentationResult) -> Review:
        if result.mask.shape != study.voxels.shape:
            raise ValueError(f"the segmentation {result.mask.shape} does not fit the study {study.voxels.shape}")
        return cls(study, result, MaskEditor(result.mask))

    @property
    def mask(self) -> np.ndarray:
        """The mask the reader accepts: the model's, with the reader's edits."""
        return self.editor.mask

    @property
    def edited(self) -> bool:
        return self.edits.edited

    def remeasure(self) -> None:
        """Measure the mask again, after an edit (a stroke, undo, redo or reset)."""
        self.findings = compute_study_findings(self.study, self.result, mask=self.editor.mask)
        self.edits = compare_masks(self.result.mask, self.editor.mask, self.study.spacing_mm)
        for listener in self.listeners:
            listener(self)

    def record(self, action: str, **details) -> None:
        """Add the editor's last step to the history (call right after the step), then remeasure."""
        step = self.editor.last_step
        entry = {"at": now_text(), "action": action, **details}
        if step is not None:
            entry.update(slices=[int(z) for z in step.slices],
                         voxels_added=int((step.after & ~step.before).sum()),
                         voxels_erased=int((step.before & ~step.after).sum()))
        self.history.append(entry)
        self.remeasure()

    # -- lesions the reader accepts or rejects --------------------------------------------------
    def lesion(self, number: int) -> Lesion:
        return next(lesion for lesion in self.findings.lesions if lesion.number == number)

    def accepted_numbers(self) -> set[int]:
        """The lesions the reader confirmed that are still in the mask (edits renumber lesions)."""
        if not self.accepted_seeds:
            return set()
        labels, _ = label_lesions(self.mask)
        accepted = {labels[seed] for seed in self.accepted_seeds} - {0}
        return {lesion.number for lesion in self.findings.lesions if labels[lesion.seed] in accepted}

    def accept_lesion(self, number: int) -> None:
        lesion = self.lesion(number)
        self.accepted_seeds.append(lesion.seed)
        self.editor.last_step = None  # accepting changes no voxel
        self.record("accept lesion", lesion=number, lesion_voxels=lesion.voxel_count)

    def reject_lesion(self, number: int) -> list[int]:
        """Erase the lesion from the accepted mask, as one undoable edit; returns the slices changed."""
        lesion = self.lesion(number)
        changed = self.editor.erase_region(lesion_region(self.mask, lesion.seed))
        self.record("reject lesion", lesion=number)
        return changed

    def on_study(self, study: Study) -> None:
        """The same images were reopened with a voxel size: keep the result and edits, measure in mm."""
        if study.voxels.shape != self.study.voxels.shape:
            raise ValueError("the reopened study has another size; segment it again")
        self.study = study
        self.remeasure()

    def next_finding(self, z: int, step: int) -> int | None:
        """The nearest slice with hemorrhage after (step 1) or before (step -1) slice z."""
        affected = self.findings.affected_slices
        candidates = [s for s in affected if s > z] if step > 0 else [s for s in affected if s < z]
        if not candidates:
            return None
        return candidates[0] if step > 0 else candidates[-1]
