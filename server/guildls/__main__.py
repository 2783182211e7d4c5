from guildls.cli import main

raise SystemExit(main())
