"""Resident memory of this process, for leak checks (Linux /proc; ru_maxrss elsewhere as an upper bound)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def rss_mb() -> float:
    """Current resident set size in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)
