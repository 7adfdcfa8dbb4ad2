"""The viewer's warnings and errors reach a log file in the user's data folder (no console in the bundle)."""

from __future__ import annotations

import logging

from ich_viewer.ui.session_log import LOG_FILE, start_session_log


def test_errors_go_to_a_log_file_in_the_user_data_folder(isolated_user_data):
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = start_session_log()
        logging.getLogger("ich_viewer.ui.worker").error("segmentation of /some/study failed")
        for handler in root.handlers:
            handler.flush()
        assert path == isolated_user_data / "logs" / LOG_FILE
        assert "ERROR ich_viewer.ui.worker: segmentation of /some/study failed" in path.read_text()
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()


def test_an_unwritable_data_folder_leaves_the_log_on_stderr_only(isolated_user_data, monkeypatch):
    isolated_user_data.parent.mkdir(parents=True, exist_ok=True)
    isolated_user_data.write_text("a file where the folder should be")
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert start_session_log() is None
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
