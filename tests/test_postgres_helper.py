"""The PostgreSQL helper gives working, isolated, cleaned-up databases."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from tests import postgres


def test_fresh_database_works(postgres_server: postgres.PostgresServer | str) -> None:
    server = postgres.require(postgres_server)
    with server.fresh_database() as url:
        assert make_url(url).drivername == "postgresql+psycopg"
        with postgres.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SELECT current_database()").fetchone() == (make_url(url).database,)


def test_fresh_databases_are_isolated_and_dropped(
    postgres_server: postgres.PostgresServer | str,
) -> None:
    server = postgres.require(postgres_server)
    with server.fresh_database() as first, server.fresh_database() as second:
        assert make_url(first).database != make_url(second).database
        with postgres.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (x int)")
            conn.execute("INSERT INTO only_here VALUES (42)")
        with postgres.connect(second, autocommit=True) as conn:
            row = conn.execute("SELECT to_regclass('only_here')").fetchone()
            assert row == (None,)
        # A connection left open (as a store a test forgot to close would) must not stop
        # the drop.
        leftover = postgres.connect(first)
        leftover.execute("SELECT 1")
        assert server.database_exists(first)
        assert server.database_exists(second)
    assert not server.database_exists(first)
    assert not server.database_exists(second)
    leftover.close()


def test_store_url_gives_an_empty_database(store_url: str) -> None:
    url = make_url(store_url)
    if url.drivername.startswith("sqlite"):
        assert store_url == "sqlite://" or store_url.endswith("/state.db")
        return
    with postgres.connect(store_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,)
