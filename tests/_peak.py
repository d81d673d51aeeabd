"""Peak memory of work done in a fresh Python process, for tests that bound what reading a file costs.

The peak is the process's ``VmHWM`` (Linux): ``getrusage``'s ``ru_maxrss`` survives ``fork`` and ``exec``,
so under a large pytest process it reports the parent's size instead of the child's.
"""

import os
import subprocess
import sys

PEAK = """
import resource

def peak_bytes():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""


def run_measured(script, *args):
    """Run ``script`` (which may call ``peak_bytes()``) in a child interpreter; return its stdout lines."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK + script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    return result.stdout.strip().splitlines()
