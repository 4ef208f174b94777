"""network fingerprints on models, measurements and prediction-log rows; why a prediction was checked

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 02:30:00

Backfill: each model's fingerprint is computed from its stored IR (a row whose IR no longer
parses keeps its model id as fingerprint, so it still pairs with its own measurements); a
measurement copies its model's; a logged prediction takes its model's fingerprint, or its spec's (rebuilt with the search
space; specs of unknown spaces stay NULL and are not paired).
"""

import json
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger(__name__)
_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_models_fingerprint", ["fingerprint"], unique=False)
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_measurements_device_fingerprint", ["device", "fingerprint"], unique=False
        )
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("check_kind", sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_prediction_log_check_kind_choice"), "check_kind IN ('audit', 'doubt')"
        )
    _backfill_models()
    _backfill_log()


def _model_fingerprint(model_id: str, ir_json: str) -> str:
    from predictor.ir.fingerprint import graph_fingerprint
    from predictor.ir.schema import GraphIR

    try:
        return graph_fingerprint(GraphIR.from_json(ir_json))
    except Exception:  # an IR of another version or shape: the model id still pairs its own rows
        return model_id


def _backfill_models() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, ir_json FROM models")).all()
    update = sa.text("UPDATE models SET fingerprint = :fp WHERE id = :id")
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        values = [{"fp": _model_fingerprint(i, j), "id": i} for i, j in chunk]
        if values:
            bind.execute(update, values)


def _spec_fingerprint(spec: str) -> str | None:
    from predictor.ir.fingerprint import graph_fingerprint
    from predictor.spaces.registry import get_space

    try:
        data = json.loads(spec)
        return graph_fingerprint(get_space(data["space"]).to_ir(data["arch"]))
    except Exception:  # unknown space or a spec the space no longer accepts: left unpaired
        logger.info("no fingerprint for logged spec %.80s", spec)
        return None


def _backfill_log() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE measurements SET fingerprint = "
            "(SELECT models.fingerprint FROM models WHERE models.id = measurements.model_id)"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE prediction_log SET fingerprint = "
            "(SELECT models.fingerprint FROM models WHERE models.id = prediction_log.model_id) "
            "WHERE model_id IS NOT NULL"
        )
    )
    specs = bind.execute(
        sa.text(
            "SELECT DISTINCT spec FROM prediction_log "
            "WHERE model_id IS NULL AND spec IS NOT NULL"
        )
    ).scalars().all()
    update = sa.text(
        "UPDATE prediction_log SET fingerprint = :fp WHERE model_id IS NULL AND spec = :spec"
    )
    values = [{"fp": fp, "spec": s} for s in specs if (fp := _spec_fingerprint(s)) is not None]
    for start in range(0, len(values), _BATCH):
        bind.execute(update, values[start : start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_measurements_device_fingerprint")
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_prediction_log_check_kind_choice"), type_="check")
        batch_op.drop_column("check_kind")
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index("ix_models_fingerprint")
        batch_op.drop_column("fingerprint")
