"""Running the Alembic migrations from code (serve, ``perfloop db upgrade``, tests)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

#: The migration scripts: the package ``service.migrations`` (the top-level ``migrations/`` of a
#: checkout, mapped in pyproject.toml), found through importlib.resources, so an installed wheel
#: migrates outside a checkout.
SCRIPT_LOCATION = str(resources.files("service.migrations"))


def alembic_config(url: str | None = None) -> Config:
    """The Alembic config of the service (``url`` overrides the settings' database)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@cache
def head_revision() -> str | None:
    """The head revision of the migration scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_configured_database() -> str:
    """Migrate the database of the current settings to head (creating the data dir).

    Returns:
        The revision the database is at afterwards (``"base"`` when there are no migrations).
    """
    from service.core.config import get_settings
    from service.core.db import make_engine

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        return current_revision(engine) or "base"
    finally:
        engine.dispose()
