"""Fixtures shared by every layer of tests.

`engine` and `settings` are parametrized over SQLite and PostgreSQL: each integration test runs
its one body on both. PostgreSQL tests run whenever a server answers; under CI a missing server
is an error, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.store.engine import make_engine
from pxm_jobs.tenancy import secrets
from tests.databases import (
    copy_sqlite,
    empty_postgres,
    fresh_postgres_database,
    migrated_sqlite_template,
    postgres_answers,
)

DATABASES = ["sqlite", "postgresql"]

# The browser tests need Playwright and Chromium: `make e2e` installs them and runs these.
if not os.environ.get("PXM_E2E"):
    collect_ignore = ["e2e"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not postgres_answers():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not answering; CI must start it before the tests")
        pytest.skip("PostgreSQL is not answering")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        yield copy_sqlite(sqlite_template, tmp_path)
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(Settings(database_url=url))
    empty_postgres(engine)
    engine.dispose()
    yield url


# Hundreds of tests make stores and exchange their keys for tokens, and at the service's cost
# (about 30 ms a hash) that adds up to minutes. In this process client secrets are hashed at a
# far lower cost: real scrypt hashes all the same, verified by the same code, which reads the
# cost stored in each. Tests of the cost itself, or of the time a token request takes, keep the
# service's with the `real_secret_cost` mark; services the tests start run at their own.
TEST_SCRYPT_N = 2**4


@pytest.fixture(autouse=True)
def cheap_secret_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_secret_cost") is None:
        monkeypatch.setattr(secrets, "SCRYPT_N", TEST_SCRYPT_N)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, signing_secret="test-signing-secret")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()
