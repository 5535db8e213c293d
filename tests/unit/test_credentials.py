"""Generated client ids and secrets can be typed into any command line as they are."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pxm_jobs.tenancy import keys


@pytest.mark.parametrize("generate", [keys.generate_client_id, keys.generate_client_secret])
def test_a_credential_never_starts_with_a_dash(
    monkeypatch: pytest.MonkeyPatch, generate: Callable[[], str]
) -> None:
    # A command takes an argument starting with `-` for an option: such a draw is drawn again.
    draws = iter(["-first", "--second", "third-is-fine"])
    monkeypatch.setattr(keys, "token_urlsafe", lambda _nbytes: next(draws))
    assert generate() == "third-is-fine"


def test_credentials_are_long_random_and_url_safe() -> None:
    ids = {keys.generate_client_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(not client_id.startswith("-") for client_id in ids)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert all(set(client_id) <= allowed and len(client_id) >= 20 for client_id in ids)
