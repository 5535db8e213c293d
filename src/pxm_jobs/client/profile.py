"""Where the client finds the service and its keys: options, `PXM_*` variables, a profile file.

Options and variables win (Typer reads `PXM_API_URL`, `PXM_CLIENT_ID` and `PXM_CLIENT_SECRET`
for the options); what they leave unset comes from the named profile in `profiles.toml`, in the
user's config directory (`pxm-jobs login` writes it).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_PROFILE = "default"
PROFILE_FILE = "profiles.toml"


class ProfileProblem(Exception):
    """The client does not know where the service is, or with which keys to sign in."""


@dataclass(frozen=True)
class Profile:
    api_url: str
    client_id: str
    client_secret: str


def profile_path() -> Path:
    return Path(platformdirs.user_config_dir("pxm-jobs", appauthor=False)) / PROFILE_FILE


def read_profiles(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or profile_path()
    if not path.exists():
        return {}
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProfileProblem(f"cannot read {path}: {error}") from None
    return {
        name: {key: str(value) for key, value in table.items()}
        for name, table in loaded.items()
        if isinstance(table, dict)
    }


def resolve_profile(
    api_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    name: str | None,
    path: Path | None = None,
) -> Profile:
    """The connection to use: each value from the options, else from the profile."""
    chosen = name or DEFAULT_PROFILE
    profiles = read_profiles(path)
    if name and name != DEFAULT_PROFILE and name not in profiles:
        raise ProfileProblem(f"no profile {name!r} in {path or profile_path()}")
    stored = profiles.get(chosen, {})
    values = {
        "api_url": api_url or stored.get("api_url"),
        "client_id": client_id or stored.get("client_id"),
        "client_secret": client_secret or stored.get("client_secret"),
    }
    missing = [key for key, value in values.items() if not value]
    if missing:
        options = ", ".join(f"--{key.replace('_', '-')} (PXM_{key.upper()})" for key in missing)
        raise ProfileProblem(
            f"missing {options}: pass them, set the variables, or save a profile with "
            "`pxm-jobs login`"
        )
    return Profile(
        api_url=str(values["api_url"]).rstrip("/"),
        client_id=str(values["client_id"]),
        client_secret=str(values["client_secret"]),
    )


def save_profile(name: str, profile: Profile, path: Path | None = None) -> Path:
    """Write `profile` under `name`, keeping the others; the file is readable by its owner only."""
    path = path or profile_path()
    profiles = read_profiles(path)
    profiles[name] = {
        "api_url": profile.api_url,
        "client_id": profile.client_id,
        "client_secret": profile.client_secret,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # A JSON string is a valid TOML basic string: the same quotes and escapes.
    lines: list[str] = []
    for section, values in profiles.items():
        lines.append(f"[{json.dumps(section)}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
        lines.append("")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    path.chmod(0o600)
    return path
