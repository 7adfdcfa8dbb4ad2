"""ICH Viewer: offline head-CT review with intracranial hemorrhage segmentation."""

__version__ = "0.1.0"
