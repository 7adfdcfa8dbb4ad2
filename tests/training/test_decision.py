"""The decision thresholds are chosen on other patients than those they are scored on."""

import numpy as np

from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.training.decision import PatientLesions, choose, lesions_of, nested_choices


def _patient(number, fold, bleeding, sizes, peaks):
    return PatientLesions(number, fold, bleeding, np.array(sizes), np.array(peaks, np.float32))


def test_lesions_of_gives_size_and_peak():
    probability = np.zeros((2, 16, 16), np.float32)
    probability[0, 2:4, 2:4] = 0.7
    probability[1, 2:4, 2:4] = 0.95  # connected to the one above
    probability[1, 10, 10] = 0.6
    sizes, peaks = lesions_of(probability, 0.5)
    assert sorted(sizes.tolist()) == [1, 8] and np.allclose(sorted(peaks), [0.6, 0.95])


def test_choose_raises_the_minimum_lesion_until_it_would_lose_a_bleed():
    patients = [_patient(i, 0, True, [300], [0.99]) for i in range(10)]
    patients += [_patient(10 + i, 0, False, [20], [0.99]) for i in range(10)]  # specks on normal heads
    chosen = choose(patients, Thresholds())
    assert chosen.min_lesion_px == 25  # the smallest size that clears every speck


def test_choose_may_miss_one_faint_bleed_but_not_two():
    patients = [_patient(i, 0, True, [300], [0.99]) for i in range(10)]
    patients += [_patient(10, 0, True, [15], [0.99]), _patient(11, 0, True, [30], [0.99])]  # two small bleeds
    patients += [_patient(20 + i, 0, False, [20], [0.99]) for i in range(10)]
    chosen = choose(patients, Thresholds())
    assert chosen.min_lesion_px == 25  # misses the 15-px bleed, clears every speck, keeps the 30-px one


def test_fold_thresholds_never_see_their_own_fold():
    # Fold 1's normal heads carry large false lesions; only fold 1's own choice could react to them.
    patients = [_patient(i, i % 2, True, [300], [0.99]) for i in range(10)]
    patients += [_patient(10 + i, 0, False, [20], [0.99]) for i in range(5)]
    patients += [_patient(20 + i, 1, False, [150], [0.99]) for i in range(5)]
    chosen = nested_choices(patients, [0, 1], Thresholds())
    assert chosen["fold1"].min_lesion_px == 25  # chosen on fold 0, where 25 clears everything
    assert chosen["fold0"].min_lesion_px == 200  # chosen on fold 1
