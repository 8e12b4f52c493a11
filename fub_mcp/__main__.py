"""`python -m fub_mcp`: the same as the `fub-mcp` command."""

import sys

from fub_mcp.cli import main

sys.exit(main())
