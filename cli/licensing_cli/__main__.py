"""``python -m licensing_cli``."""

import sys

from licensing_cli.main import main

sys.exit(main())
