"""Predictor versions (one active at a time) and training-request claims."""

from __future__ import annotations

import pytest

from service.core.db import Database
from service.core.errors import NotFound
from service.crud import predictors as predictor_crud


def test_one_active_version(db: Database) -> None:
    with db.session(write=True) as session:
        for version in ("a", "b"):
            predictor_crud.register(session, version, f"/artifacts/{version}", {})
        assert predictor_crud.active(session) is None
        predictor_crud.activate(session, "a")
        predictor_crud.activate(session, "b")
    with db.session() as session:
        statuses = {v.version: v.status for v in predictor_crud.list_versions(session)}
        active = predictor_crud.active(session)
    assert statuses == {"a": "retired", "b": "active"}
    assert active is not None and active.version == "b"
    with db.session(write=True) as session, pytest.raises(NotFound, match="'zz'"):
        predictor_crud.activate(session, "zz")


def test_a_training_request_is_claimed_once(db: Database) -> None:
    with db.session(write=True) as session:
        request_id = predictor_crud.create_train_request(session, {"quick": True}).id
    with db.session(write=True) as session:
        assert predictor_crud.claim_train_request(session, request_id) is True
    with db.session(write=True) as session:
        assert predictor_crud.claim_train_request(session, request_id) is False
        assert predictor_crud.get_train_request(session, request_id).status == "running"
