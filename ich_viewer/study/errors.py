"""The one error a loader raises when nothing in the input can be shown."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class StudyLoadError(Exception):
    """Nothing loadable was found at `path`; `message` says which file and what is wrong.

    `studies` is filled when `path` is a folder holding several studies (the
    headless batch can process them one by one).
    """

    def __init__(self, path: str | Path, message: str, studies: Iterable[Path] = ()) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.message = message
        self.studies = list(studies)

    def __str__(self) -> str:
        return self.message
