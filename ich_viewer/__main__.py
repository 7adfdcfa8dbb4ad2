import multiprocessing

from ich_viewer.cli import main

if __name__ == "__main__":  # not in a decoding worker, which imports this module as __mp_main__
    multiprocessing.freeze_support()  # in the bundle, a worker process starts through this entry point
    raise SystemExit(main())
