"""The engine for the headless commands (`report`, `segment`): loaded, or None with the reason printed."""

from __future__ import annotations

import sys


def load_engine(force_cpu: bool, command: str, model: str | None = None):
    """The engine with its network loaded (checksum verified), or None if there is no usable model.

    model: a shipped model's name (`--model`); None for the default.
    """
    from ich_viewer.segmentation.model_file import ModelFileError, model_path  # noqa: PLC0415

    try:
        weights = model_path(model) if model else None
    except ModelFileError as error:  # a mistyped name: reinstalling would not help
        print(f"ich-viewer {command}: {error}", file=sys.stderr)
        return None
    try:
        from ich_viewer.segmentation.engine import SegmentationEngine  # noqa: PLC0415

        engine = SegmentationEngine(weights, force_cpu=force_cpu)
        engine.load()
    except (ImportError, ModelFileError, OSError) as error:
        print(f"ich-viewer {command}: the segmentation model is not available ({error}). "
              "Reinstall ICH Viewer or check the models folder (ICH_VIEWER_MODELS).", file=sys.stderr)
        return None
    return engine
