"""The service test fixtures (databases on SQLite and PostgreSQL) for the service benchmarks."""

from tests.service.conftest import (  # noqa: F401
    backend,
    db_url,
    postgres_databases,
    sqlite_databases,
)
