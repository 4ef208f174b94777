"""A fresh data dir starts with the predictor shipped with perfloop active (no 409 at first).

Only a database without any predictor version gets it: once anything is registered, what is
active is the operator's and the retraining worker's choice. The shipped version then takes part
in the worker's comparison like any other active version (:mod:`service.training_round`).
"""

from __future__ import annotations

import logging

from service.core.config import Settings
from service.core.db import Database
from service.crud import predictors as predictor_crud

logger = logging.getLogger(__name__)


def install_shipped(db: Database, settings: Settings) -> str | None:
    """Register and activate the shipped predictor when no version exists yet.

    Returns:
        The version activated, or None (versions exist, disabled, or none shipped).
    """
    if not settings.ship_predictor:
        return None
    from predictor.api import install_shipped_predictor

    with db.session(write=True) as session:
        if predictor_crud.list_versions(session):
            return None
        installed = install_shipped_predictor(settings.artifact_dir)
        if installed is None:
            logger.warning("this build ships no predictor; predictions answer 409 until trained")
            return None
        version, path = installed
        predictor_crud.register(session, version, str(path), {"shipped": True})
        predictor_crud.activate(session, version)
    logger.info("activated the shipped predictor %s", version)
    return version
