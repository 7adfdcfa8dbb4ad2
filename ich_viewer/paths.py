"""Where things live: bundled resources, shipped models, the CT-ICH data.

Resources are found relative to the package so the same code works from a
source checkout and from the PyInstaller bundle (where sys._MEIPASS holds
the unpacked files).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return _root() / "resources"


def models_dir() -> Path:
    return Path(os.environ.get("ICH_VIEWER_MODELS", _root() / "models"))


def sample_study_dir() -> Path:
    return resources_dir() / "sample"


def data_dir() -> Path:
    """The shared CT data (never copied into the repo): $ICH_DATA or ../shared/data."""
    env = os.environ.get("ICH_DATA")
    if env:
        return Path(env)
    return _root().parent / "shared" / "data"


def ct_ich_dir() -> Path:
    return data_dir() / "ct-ich"


def hu_subset_dir() -> Path:
    return data_dir() / "ct-ich-hu-subset"
