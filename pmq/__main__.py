from pmq.cli import main

raise SystemExit(main())
