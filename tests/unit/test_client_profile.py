"""Where the client finds the service and its keys: options over the profile file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pxm_jobs.client.profile import Profile, ProfileProblem, resolve_profile, save_profile


def test_options_win_and_the_profile_fills_in_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    save_profile("default", Profile("http://saved:8080", "saved-id", "saved-secret"), path)
    chosen = resolve_profile("http://given:9000/", None, None, None, path)
    assert chosen == Profile("http://given:9000", "saved-id", "saved-secret")


def test_profiles_are_kept_side_by_side_and_owner_readable(tmp_path: Path) -> None:
    path = tmp_path / "config" / "profiles.toml"
    save_profile("shop", Profile("http://a", "a", 'se"cr\\et ü'), path)
    save_profile("other", Profile("http://b", "b", "b-secret"), path)
    assert resolve_profile(None, None, None, "shop", path).client_secret == 'se"cr\\et ü'
    assert resolve_profile(None, None, None, "other", path).api_url == "http://b"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_what_is_missing_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileProblem, match="--client-secret \\(PXM_CLIENT_SECRET\\)"):
        resolve_profile("http://a", "id", None, None, tmp_path / "none.toml")
    with pytest.raises(ProfileProblem, match="no profile 'shop'"):
        resolve_profile(None, None, None, "shop", tmp_path / "none.toml")
