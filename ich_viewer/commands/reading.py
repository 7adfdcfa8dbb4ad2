"""The step every headless command shares: load the engine, then segment and measure a study.

`segment` and `report` both call segment_and_measure; the viewer's exports measure through the
same compute_study_findings (in analysis.review), so a study gives the same numbers
whichever way it is written.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ich_viewer.analysis import HemorrhageFindings
    from ich_viewer.segmentation.result import SegmentationResult
    from ich_viewer.study.model import Study

MODEL_HELP = ("a shipped model by name (a file name in models/ without .keras); "
              "default: ich_unet25d_final, ours trained on all patients")


@dataclass(frozen=True)
class Reading:
    """A study as the network read it. A study not in HU is not segmented: no segmentation, no findings."""

    study: Study
    segmentation: SegmentationResult | None = None
    findings: HemorrhageFindings | None = None


def segment_and_measure(study: Study, engine) -> Reading:
    """Segment and measure an opened study (one not in HU is given no verdict, so is not segmented)."""
    from ich_viewer.analysis import compute_study_findings

    if not study.assessable:
        return Reading(study)
    segmentation = engine.segment(study)
    return Reading(study, segmentation, compute_study_findings(study, segmentation))


def load_engine(force_cpu: bool, command: str, model: str | None = None):
    """The engine with its network loaded (checksum verified), or None with the reason printed.

    model: a shipped model's name (`--model`); None for the default.
    """
    from ich_viewer.segmentation.model_file import ModelFileError, model_path

    try:
        weights = model_path(model) if model else None
    except ModelFileError as error:  # a mistyped name: reinstalling would not help
        print(f"ich-viewer {command}: {error}", file=sys.stderr)
        return None
    try:
        from ich_viewer.segmentation.engine import SegmentationEngine

        engine = SegmentationEngine(weights, force_cpu=force_cpu)
        engine.load()
    except (ImportError, ModelFileError, OSError) as error:
        print(f"ich-viewer {command}: the segmentation model is not available ({error}). "
              "Reinstall ICH Viewer or check the models folder (ICH_VIEWER_MODELS).", file=sys.stderr)
        return None
    return engine
