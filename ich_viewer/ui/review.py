"""The reading of one study: the model's result, the reader's edits of it, and what they measure.

Qt-free so that the window only shows it. The model's SegmentationResult is
never changed: the reader edits a copy of its mask (MaskEditor), and the
findings, the edit summary and every export use that copy, which equals the
model's mask until the reader paints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ich_viewer.analysis import HemorrhageFindings, MaskEdits, compare_masks, compute_study_findings
from ich_viewer.analysis.mask_editing import MaskEditor
from ich_viewer.segmentation.result import SegmentationResult
from ich_viewer.study.model import Study


@dataclass
class Review:
    study: Study
    result: SegmentationResult
    editor: MaskEditor
    findings: HemorrhageFindings = field(init=False)
    edits: MaskEdits = field(init=False)

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
