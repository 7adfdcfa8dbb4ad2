"""Where the viewer's warnings and errors go: a log file in the user's data folder, and stderr.

The bundle runs without a console, so a traceback printed to stderr is lost;
the file keeps the last few sessions for whoever supports the workstation.
No patient data is written: messages name files and errors only.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from ich_viewer.ui.autosave import user_data_folder

LOG_FILE = "ich-viewer.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def start_session_log(level: int = logging.INFO) -> Path | None:
    """Log to <user data>/logs/ich-viewer.log (1 MB x 3 kept) and stderr; returns the file, or None
    when the folder cannot be written (stderr only then: logging must never stop the viewer)."""
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    path = user_data_folder() / "logs" / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3,
                                                       encoding="utf-8")
    except OSError as error:
        logging.getLogger(__name__).warning("no log file (%s): %s", path, error)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
