"""Run every ``signeditor bench ...`` command, print a table and write ``benchmarks/results.json``.

Each benchmark runs in its own process so one's memory or threads cannot
skew another's numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from signeditor.cli import COMMAND_GROUPS, subcommands

ROOT = Path(__file__).resolve().parent.parent


def machine_description() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "platform": platform.platform(),
            "python": platform.python_version()}


def main() -> int:
    names = list(subcommands(COMMAND_GROUPS["bench"][0]))
    only = sys.argv[1:]
    results: dict[str, object] = {"machine": machine_description(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    failed = []
    for name in names:
        if only and name not in only:
            continue
        print(f"== bench {name}", flush=True)
        command = [sys.executable, "-m", "signeditor", "bench", name, "--json"]
        if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
            # A display that outlives the benchmark: Qt must not lose its X server before it exits.
            command = ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", *command]
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            failed.append(name)
            print(proc.stderr[-2000:], file=sys.stderr)
            continue
        results[name] = json.loads(proc.stdout[proc.stdout.index("{"):])
    print()
    print(f"{'benchmark':<12} {'metric':<32} value")
    for name, values in results.items():
        if isinstance(values, dict) and name != "machine":
            for key, value in values.items():
                if not isinstance(value, dict):
                    print(f"{name:<12} {key:<32} {value}")
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(results, indent=1, sort_keys=True, default=str))
    print(f"\nwrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
