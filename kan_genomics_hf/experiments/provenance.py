"""What a benchmark result file records about the machine it ran on: the CPU model and the load."""
from __future__ import annotations

import platform
import subprocess
from pathlib import Path


def uptime() -> str:
    """`uptime`'s line (load averages), or 'n/a' where the command is missing."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
