"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:03:00.113340
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('devices',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('runtime', sa.String(length=128), nullable=False),
    sa.Column('simulated', sa.Boolean(), nullable=False),
    sa.Column('hardware', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('mcu', 'phone', 'npu', 'cpu', 'gpu')", name=op.f('ck_devices_kind_choice')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_devices'))
    )
    op.create_table('models',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('ir_json', sa.Text(), nullable=False),
    sa.Column('ir_version', sa.Integer(), nullable=False),
    sa.Column('macs', sa.BigInteger(), nullable=False),
    sa.Column('flops', sa.BigInteger(), nullable=False),
    sa.Column('params', sa.BigInteger(), nullable=False),
    sa.Column('model_bytes', sa.BigInteger(), nullable=False),
    sa.Column('peak_activation_bytes', sa.BigInteger(), nullable=False),
    sa.Column('num_nodes', sa.Integer(), nullable=False),
    sa.Column('unknown_ops', sa.JSON(), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=True),
    sa.Column('space', sa.String(length=64), nullable=True),
    sa.Column('spec', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_models'))
    )
    op.create_table('prediction_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.String(length=64), nullable=True),
    sa.Column('spec', sa.Text(), nullable=True),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('predictor_version', sa.String(length=128), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('std', sa.Float(), nullable=False),
    sa.Column('lo', sa.Float(), nullable=False),
    sa.Column('hi', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prediction_log'))
    )
    with op.batch_alter_table('prediction_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prediction_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_prediction_log_device_model', ['device', 'model_id'], unique=False)

    op.create_table('predictor_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('artifact_path', sa.Text(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('candidate', 'active', 'retired')", name=op.f('ck_predictor_versions_status_choice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_predictor_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_predictor_versions_version'))
    )
    op.create_table('tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.CheckConstraint("scope <> 'agent' OR device IS NOT NULL", name=op.f('ck_tokens_agent_has_device')),
    sa.CheckConstraint("scope IN ('admin', 'client', 'agent')", name=op.f('ck_tokens_scope_choice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tokens_token_hash'))
    )
    op.create_table('train_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_train_requests_status_choice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_train_requests'))
    )
    op.create_table('measurements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('model_id', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('measurement_kind', sa.String(length=16), nullable=False),
    sa.Column('n_runs', sa.Integer(), nullable=True),
    sa.Column('warmup_runs', sa.Integer(), nullable=True),
    sa.Column('latency_median_ms', sa.Float(), nullable=True),
    sa.Column('latency_mean_ms', sa.Float(), nullable=True),
    sa.Column('latency_std_ms', sa.Float(), nullable=True),
    sa.Column('latency_p10_ms', sa.Float(), nullable=True),
    sa.Column('latency_p90_ms', sa.Float(), nullable=True),
    sa.Column('raw_samples_ms', sa.JSON(), nullable=True),
    sa.Column('energy_mj', sa.Float(), nullable=True),
    sa.Column('peak_memory_bytes', sa.BigInteger(), nullable=True),
    sa.Column('flash_bytes', sa.BigInteger(), nullable=True),
    sa.Column('backend', sa.String(length=64), nullable=False),
    sa.Column('runtime', sa.String(length=64), nullable=False),
    sa.Column('runtime_version', sa.String(length=64), nullable=False),
    sa.Column('threads', sa.Integer(), nullable=True),
    sa.Column('cpu', sa.String(length=256), nullable=True),
    sa.Column('clock_mhz', sa.Float(), nullable=True),
    sa.Column('agent_version', sa.String(length=64), nullable=False),
    sa.Column('environment_extra', sa.JSON(), nullable=False),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("measurement_kind IN ('measured', 'simulated')", name=op.f('ck_measurements_measurement_kind_choice')),
    sa.ForeignKeyConstraint(['device'], ['devices.name'], name=op.f('fk_measurements_device_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_measurements_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_measurements_idempotency_key'))
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index('ix_measurements_device_model', ['device', 'model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurements_model_id'), ['model_id'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('model_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leased_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('measurement_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'leased', 'done', 'failed')", name=op.f('ck_jobs_status_choice')),
    sa.ForeignKeyConstraint(['device'], ['devices.name'], name=op.f('fk_jobs_device_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measurement_id'], ['measurements.id'], name=op.f('fk_jobs_measurement_id_measurements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_jobs_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_lease_order', ['device', 'status', 'priority', 'id'], unique=False)
        batch_op.create_index('uq_jobs_open_device_model', ['device', 'model_id'], unique=True, sqlite_where=sa.text("status IN ('queued', 'leased')"), postgresql_where=sa.text("status IN ('queued', 'leased')"))



def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_jobs_open_device_model', sqlite_where=sa.text("status IN ('queued', 'leased')"), postgresql_where=sa.text("status IN ('queued', 'leased')"))
        batch_op.drop_index('ix_jobs_lease_order')

    op.drop_table('jobs')
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurements_model_id'))
        batch_op.drop_index('ix_measurements_device_model')

    op.drop_table('measurements')
    op.drop_table('train_requests')
    op.drop_table('tokens')
    op.drop_table('predictor_versions')
    with op.batch_alter_table('prediction_log', schema=None) as batch_op:
        batch_op.drop_index('ix_prediction_log_device_model')
        batch_op.drop_index(batch_op.f('ix_prediction_log_created_at'))

    op.drop_table('prediction_log')
    op.drop_table('models')
    op.drop_table('devices')
