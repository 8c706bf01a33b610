"""Import time: wall time of a fresh `python -c "import LIB"` process."""

from __future__ import annotations

TARGET = 0.15
ISSUE = 2
DESCRIPTION = 'wall time of a fresh `python -c "import LIB"` process (interpreter start included)'
# The worker measures this kind itself: there is no setup/step to call in-process.
KIND = "import"
