"""`make compat`: Elastic Path's JavaScript SDK against a live `pxm-jobs serve`.

Starts the service on a fresh SQLite file with keys of its own, then runs every
`compat/*.test.mjs` with Node's test runner, the SDK loaded as a web page loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)

HERE = Path(__file__).resolve().parent


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        environment = bootstrapped_environment(f"sqlite:///{Path(directory) / 'compat.db'}", port)
        base_url = f"http://127.0.0.1:{port}"
        with running(["serve"], environment, Path(directory)) as process:
            wait_until_serving(base_url, process)
            tests = sorted(str(path) for path in HERE.glob("*.test.mjs"))
            node_environment = {
                **os.environ,
                "PXM_URL": base_url,
                "PXM_CLIENT_ID": CLIENT_ID,
                "PXM_CLIENT_SECRET": CLIENT_SECRET,
            }
            return subprocess.run(["node", "--test", *tests], env=node_environment).returncode


if __name__ == "__main__":
    sys.exit(main())
