"""CLI: ``perfloop token create`` prints only the token; ``perfloop db upgrade`` migrates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfloop.cli import app
from service.core.config import get_settings
from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.crud.tokens import find_principal
from service.migrate import current_revision, head_revision


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PERFLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERFLOOP_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_token_create_prints_only_the_token(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "create", "--scope", "agent", "--device", "pi4"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("plt_")
    db = Database(get_settings().resolved_database_url)
    try:
        with db.session() as session:
            principal = find_principal(session, lines[0])
        assert principal is not None and principal.scope == "agent" and principal.device == "pi4"
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()


def test_token_create_rejects_bad_scope(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "create", "--scope", "root"])
    assert result.exit_code != 0 and result.stdout == ""
    result = CliRunner().invoke(app, ["token", "create", "--scope", "agent"])
    assert result.exit_code != 0 and "--device" in result.output


def test_db_upgrade(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "perfloop.sqlite3").exists()


def test_predictors_add_registers_and_activates(data_dir: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    args = ["predictors", "add", str(artifact), "--version", "v7", "--activate"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "v7"
    db = Database(get_settings().resolved_database_url)
    try:
        with db.session() as session:
            active = predictor_crud.active(session)
        assert active is not None and active.version == "v7"
        assert active.artifact_path == str(artifact.resolve())
    finally:
        db.dispose()


@pytest.mark.parametrize("preset", [None, "3"])
def test_serve_gives_workers_one_torch_thread_unless_told(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, preset: str | None
) -> None:
    import uvicorn

    seen: dict[str, str | None] = {}

    def fake_run(*_args: object, **_kwargs: object) -> None:
        import os

        seen["omp"] = os.environ.get("OMP_NUM_THREADS")

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # setenv first: restored afterwards
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    if preset is not None:
        monkeypatch.setenv("OMP_NUM_THREADS", preset)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert seen["omp"] == (preset or "1")
