"""One-shot start-up for deployments: migrate, then install tokens given in the environment.

``python -m service.bootstrap`` (the ``migrate`` service of docker-compose.yml and
scripts/compose_smoke.sh). ``PERFLOOP_ADMIN_TOKEN`` becomes an admin token and each
``PERFLOOP_AGENT_TOKEN_<DEVICE>`` an agent token bound to device ``<device>`` (lower case,
``_`` read as ``-``). Only sha256 hashes are stored; running it again changes nothing. A
database without any predictor version gets the shipped one, active (:mod:`service.shipped`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from sqlalchemy.orm import Session

from service.core.config import get_settings
from service.core.db import Database
from service.crud.tokens import TOKEN_PREFIX, add_hashed
from service.migrate import upgrade
from service.schemas import Scope
from service.shipped import install_shipped

logger = logging.getLogger(__name__)

ADMIN_VAR = "PERFLOOP_ADMIN_TOKEN"
AGENT_PREFIX = "PERFLOOP_AGENT_TOKEN_"


def tokens_from_env(env: Mapping[str, str]) -> list[tuple[str, Scope, str | None]]:
    """``(raw, scope, device)`` for every non-empty token variable of ``env``.

    Raises:
        ValueError: a token that does not start with ``plt_`` (names the variable, not the value).
    """
    found: list[tuple[str, Scope, str | None]] = []
    for name in sorted(env):
        raw = env[name].strip()
        if not raw:
            continue
        if name == ADMIN_VAR:
            found.append((raw, "admin", None))
        elif name.startswith(AGENT_PREFIX):
            device = name.removeprefix(AGENT_PREFIX).lower().replace("_", "-")
            found.append((raw, "agent", device))
        else:
            continue
        if not raw.startswith(TOKEN_PREFIX) or len(raw) < len(TOKEN_PREFIX) + 16:
            raise ValueError(f"{name} must start with {TOKEN_PREFIX!r} and be 20+ characters")
    return found


def install_tokens(session: Session, tokens: list[tuple[str, Scope, str | None]]) -> int:
    """Store the hashes of ``tokens`` that are not stored yet; returns how many were added."""
    return sum(
        add_hashed(session, raw, scope, device, "bootstrap") for raw, scope, device in tokens
    )


def main() -> None:
    """Migrate the configured database and install the environment's tokens."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tokens = tokens_from_env(os.environ)
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.engine)
        with db.session(write=True) as session:
            added = install_tokens(session, tokens)
        install_shipped(db, settings)
    finally:
        db.dispose()
    logger.info("database migrated; %d of %d environment tokens added", added, len(tokens))


if __name__ == "__main__":
    main()
