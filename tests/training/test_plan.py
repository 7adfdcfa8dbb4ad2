"""The training plan: what ships comes from exactly one run, and refinements keep their fold."""

from ich_viewer.training.folds import N_FOLDS
from ich_viewer.training.plan import all_runs


def test_each_shipped_network_comes_from_one_run():
    shipped = [run.ships_as for run in all_runs() if run.ships_as]
    assert sorted(shipped) == sorted([f"fold{k}" for k in range(N_FOLDS)] + ["final"])


def test_a_refinement_follows_its_start_and_never_sees_the_held_out_fold():
    runs = all_runs()
    names = [run.name for run in runs]
    for position, run in enumerate(runs):
        if run.refines:
            start = runs[names.index(run.refines)]
            assert names.index(run.refines) < position
            assert start.held_out_fold == run.held_out_fold and not start.notebook_split
