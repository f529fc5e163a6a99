"""Fixtures for the PostgreSQL store suite: one throwaway PostgreSQL 15 cluster per test session
(never skipped: without PostgreSQL 15 the suite fails and says how to install it) and a fresh,
empty database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.store_pg.cluster import PostgresCluster, PostgresUnavailable

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        cluster.init().start()
    except PostgresUnavailable as exc:
        cluster.destroy()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_database(pg_cluster: PostgresCluster) -> Iterator[str]:
    """The name of a new empty database, dropped after the test."""
    name = f"headroom_test_{next(_names)}"
    pg_cluster.create_database(name)
    yield name
    if not pg_cluster.running:  # a test that stopped the server must not leave it down
        pg_cluster.start()
    pg_cluster.drop_database(name)


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster, pg_database: str) -> str:
    return pg_cluster.url(pg_database)
