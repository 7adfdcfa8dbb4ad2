"""Lets tests import the shared factories as `tests.study.dicom_factory` under plain `pytest` too.

`python -m pytest` (scripts/test.sh) already has the repo root on sys.path; the
`pytest` script does not. (`pythonpath = ["."]` in pyproject would do this for all tests.)
"""

import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
