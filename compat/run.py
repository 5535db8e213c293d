"""`make compat`: start a live `pxm-jobs` and drive it with Elastic Path's JavaScript SDK.

    python -m compat.run [--examples PATH/TO/pim.yaml]

The SDK is installed by `make compat` into `build/compat` (never committed, never needed by
`make test`). With `--examples`, every product, node and hierarchy request example of that
OpenAPI document is also sent as it is (placeholder ids replaced by ids of real products of
the store) and read back.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from compat.examples import replay_examples
from tests.acceptance.service import (
    CLIENT_ID,
    CLIENT_SECRET,
    Client,
    bootstrapped_environment,
    free_port,
    running,
    wait_until_serving,
)

ROOT = Path(__file__).resolve().parents[1]
SDK_DIR = ROOT / "build" / "compat"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=Path, help="an OpenAPI document (pim.yaml) to replay")
    arguments = parser.parse_args()
    if not (SDK_DIR / "node_modules" / "@elasticpath" / "js-sdk").is_dir():
        print("the SDK is not installed: run `make compat`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        environment = bootstrapped_environment(f"sqlite:///{directory}/compat.db", port)
        with running(["serve"], environment, Path(directory)) as process:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_serving(base_url, process)
            # ES modules resolve packages beside the script, not through NODE_PATH.
            script = SDK_DIR / "sdk_calls.mjs"
            shutil.copyfile(ROOT / "compat" / "sdk_calls.mjs", script)
            sdk = subprocess.run(
                [
                    "node",
                    str(script),
                    f"127.0.0.1:{port}",
                    CLIENT_ID,
                    CLIENT_SECRET,
                ],
                cwd=SDK_DIR,
                check=False,
            )
            if sdk.returncode != 0:
                return sdk.returncode
            if arguments.examples is not None:
                client = Client(base_url, CLIENT_ID, CLIENT_SECRET)
                try:
                    failures = replay_examples(client.http, arguments.examples)
                finally:
                    client.close()
                if failures:
                    return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
