import sys

from trialbook.cli import main

sys.exit(main())
