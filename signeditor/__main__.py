import sys

from signeditor.cli import main

sys.exit(main())
