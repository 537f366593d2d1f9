"""``python -m vbp_rules`` runs the command line."""

import sys

from vbp_rules.cli import main

sys.exit(main())
