"""`python -m sgan_core ...`: see sgan_core.cli."""
import sys

from .cli import main

sys.exit(main())
