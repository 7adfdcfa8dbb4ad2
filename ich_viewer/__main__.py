from ich_viewer.cli import main

raise SystemExit(main())
