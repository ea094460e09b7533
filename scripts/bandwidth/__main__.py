from bandwidth.cli import main

raise SystemExit(main())
