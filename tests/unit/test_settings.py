"""Settings that are checked when the service reads them, before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from pxm_jobs.config import Settings


def test_a_rate_of_token_failures_is_read_in_limits_notation() -> None:
    settings = Settings(
        token_failures_per_client="5/minute", token_failures_per_address="1 per hour"
    )
    assert settings.token_failures_per_client == "5/minute"
    with pytest.raises(ValidationError, match="'often' is not a rate such as '10/minute'"):
        Settings(token_failures_per_address="often")


def test_reading_the_settings_leaves_the_rate_limiter_unloaded() -> None:
    # A worker never limits tokens: it must not pay for loading the library at start.
    probe = (
        "import sys; from pxm_jobs.config import Settings; Settings(); "
        "print('limits' in sys.modules)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "False"


def test_the_command_line_leaves_the_http_client_unloaded() -> None:
    # `pxm-jobs worker` and `serve` start through the command line module; only the client
    # commands talk HTTP, and they load the library when they run.
    probe = "import sys; import pxm_jobs.cli; print('httpx' in sys.modules)"
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "False"
