"""`python -m bot.cli`: the `helpdesk` command without the installed console script."""

from bot.cli import main

raise SystemExit(main())
