"""Everything the tests build: synthetic CT volumes and studies (synthetic_ct), DICOM series on
disk (dicom), image folders and CT-ICH patients (images), and the fake engine (fakes).

Import as `from tests.factories.dicom import write_ct_series`.
"""
