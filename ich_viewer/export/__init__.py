"""Exports of a study and its hemorrhage mask: DICOM SEG, NIfTI, PNG key images, CSV.

Every file is written atomically (ich_viewer.atomic) and never into the study's
own folder unless the caller says the user chose it. Heavy libraries
(highdicom, nibabel, OpenCV) are imported only when an export runs.
"""

from ich_viewer.export.csv import export_findings_csv, export_lesions_csv
from ich_viewer.export.dicom_seg import export_dicom_seg
from ich_viewer.export.nifti import export_image_nifti, export_mask_nifti
from ich_viewer.export.png import export_key_images

__all__ = [
    "export_dicom_seg",
    "export_findings_csv",
    "export_image_nifti",
    "export_key_images",
    "export_lesions_csv",
    "export_mask_nifti",
]
