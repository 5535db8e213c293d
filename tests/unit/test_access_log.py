"""Credentials in request URLs are blanked before an access log line is written."""

from __future__ import annotations

import logging

import pytest

from pxm_jobs.api.access_log import CredentialRedaction, redact_credentials


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/downloads/f/part_1.csv?expires=17&signature=abc-_x",
            "/downloads/f/part_1.csv?expires=17&signature=[redacted]",
        ),
        ("/x?signature=abc&expires=17", "/x?signature=[redacted]&expires=17"),
        ("/x?SIGNATURE=abc", "/x?SIGNATURE=[redacted]"),
        (
            "/x?access_token=t&client_secret=s",
            "/x?access_token=[redacted]&client_secret=[redacted]",
        ),
        ("/pcm/jobs?filter=eq(status,pending)", "/pcm/jobs?filter=eq(status,pending)"),
        ("/x?mysignature=abc", "/x?mysignature=abc"),
    ],
)
def test_credential_parameters_are_blanked(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected


def test_an_access_log_record_is_written_without_the_signature() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/downloads/f/a.csv?expires=1&signature=secret", "1.1", 200),
        None,
    )
    assert CredentialRedaction().filter(record)
    assert "secret" not in record.getMessage()
    assert record.getMessage().endswith('a.csv?expires=1&signature=[redacted] HTTP/1.1" 200')
