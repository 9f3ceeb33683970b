"""Print the torch requirement `make` installs: a local CPU-only wheel when pip can see one.

Without a GPU the course needs only a CPU build of torch (about 200 MB) rather than PyPI's default
Linux build with CUDA (several GB). If pip's find-links folders hold a CPU wheel for this Python,
install exactly that one; otherwise print the plain requirement from pyproject.toml.
Override with `make TORCH_SPEC='torch==2.10.0' ...` (2.10 is the floor: older weights_only loaders can be bypassed).
"""

import glob
import os
import subprocess
import sys

tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
folders = os.environ.get("PIP_FIND_LINKS", "").split()
try:
    config = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30
    ).stdout
    for line in config.splitlines():
        if "find-links" in line:
            folders += line.split("=", 1)[1].strip().strip("'\"").split()
except (OSError, subprocess.TimeoutExpired):
    pass
versions = []
for folder in dict.fromkeys(f.removeprefix("file://") for f in folders):
    for wheel in glob.glob(os.path.join(folder, f"torch-*+cpu-{tag}-{tag}-*.whl")):
        versions.append(os.path.basename(wheel).split("-")[1])
if versions:
    newest = max(versions, key=lambda v: [int(x) for x in v.split("+")[0].split(".")])
    print(f"torch=={newest}")
else:
    print("torch>=2.4")
