"""Import time: wall time of a fresh `python -c "import LIB"` process."""

from __future__ import annotations

TARGET = 0.1
ISSUE = 16
DESCRIPTION = 'wall time of a fresh `python -c "import LIB"` process (interpreter start included)'
# The worker measures this kind itself: there is no setup/step to call in-process.
KIND = "import"
