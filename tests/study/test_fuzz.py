"""A bounded fuzz run: 320 mutated files (every transfer syntax, PNG and JPG), fixed seed.

Each case runs in a worker process with a 20 s limit (tests/fuzzing.py), so an abort
or a hang is counted, not fatal. The larger run is benchmarks/bench_fuzz.py.
"""

from tests.fuzzing import TRANSFER_SYNTAXES, run_fuzz


def test_mutated_files_end_loaded_or_with_a_clear_message():
    result = run_fuzz(n_cases=320, seed=15, time_limit=20)

    assert result["failures"] == {}  # no crash, no hang: each case name and its outcome
    assert result["counts"]["loaded"] + result["counts"]["clear"] == 320
    assert set(result["by_kind"]) == {*TRANSFER_SYNTAXES, "png", "jpg"}
