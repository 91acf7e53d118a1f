"""`python -m sgan_core ...`: the command line, a view like the pages (sgan_ui/cli.py). This
entry point is the one place the engine's package names a view."""
import sys

from sgan_ui.cli import main

sys.exit(main())
