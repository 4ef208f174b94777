"""The wheel works outside a checkout: build it, install it into a fresh venv, migrate, serve.

The fresh venv sees the test environment's site-packages through a ``.pth`` line (torch and the
other dependencies are not reinstalled; nothing is downloaded), but not its editable install of
perfloop: ``.pth`` files of a directory added that way are not run, so every perfloop module
comes from the wheel. Commands run from an empty directory with no ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = {"perfloop", "predictor", "service", "device_agents"}
_SKIP_ANYWHERE = shutil.ignore_patterns("__pycache__", ".*_cache", "*.egg-info")
#: Top-level entries of a working checkout that a clean clone does not have.
_SKIP_AT_ROOT = {
    ".git",
    ".venv",
    ".hypothesis",
    "build",
    "dist",
    "data",
    "perfloop-data",
    "test-output",
}


def _skip(folder: str, names: list[str]) -> set[str]:
    skipped = set(_SKIP_ANYWHERE(folder, names))
    if Path(folder) == ROOT:
        skipped |= _SKIP_AT_ROOT & set(names)
    return skipped


pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout that also holds a local ``perfloop-data/``."""
    src = tmp_path_factory.mktemp("clone") / "perfloop"
    shutil.copytree(ROOT, src, ignore=_skip)
    (src / "perfloop-data" / "predictors" / "v1").mkdir(parents=True)
    (src / "perfloop-data" / "predictors" / "v1" / "info.json").write_text("{}")
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*cmd, "--no-index", "-w", str(out), str(src)], src, dict(os.environ))
    (built,) = out.glob("perfloop-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (dependencies visible from the test env)."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], env_dir.parent, _clean())
    python = env_dir / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env_dir,
        _clean(),
    ).strip()
    Path(purelib, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    _run([*pip, "--no-index", str(wheel)], env_dir, _clean())
    return env_dir


def _clean() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLOOP_")}
    env.pop("PYTHONPATH", None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_package_list_names_every_product_package() -> None:
    """pyproject's explicit list misses no package: a forgotten one would leave the wheel."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in PRODUCT
        for init in (ROOT / top).rglob("__init__.py")
    }
    mapped = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    assert set(config["packages"]) == found | set(mapped)
    assert all((folder / "__init__.py").exists() for folder in mapped.values())


def test_wheel_holds_the_product_and_its_data_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("perfloop-0")}
    assert tops == PRODUCT
    assert "service/migrations/env.py" in names
    assert any(n.startswith("service/migrations/versions/0001_") for n in names)
    for data in (
        "predictor/spaces/data/reference_archs.json",
        "device_agents/backends/ort_cpu.py",
        "device_agents/data/cortex_m_cycles.json",
        "service/dashboard/static/dashboard.js",
        "service/dashboard/static/vendor/chart.umd.min.js",
        "service/dashboard/templates/base.html",
    ):
        assert data in names
    assert not [n for n in names if "perfloop-data" in n or n.startswith("benchmarks/")]


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``perfloop serve`` of the installed wheel, started from an empty directory."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {**_clean(), "PERFLOOP_DATA_DIR": str(tmp_path / "data")}
    _run([str(venv / "bin" / "perfloop"), "db", "upgrade"], cwd, env)
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "perfloop"), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def test_installed_wheel_migrates_and_serves_from_another_directory(
    served: tuple[str, Path], venv: Path
) -> None:
    url, log = served
    deadline = time.monotonic() + 120
    status = 0
    while time.monotonic() < deadline and status != 200:
        time.sleep(0.5)
        status = _get(f"{url}/readyz")
    assert status == 200, log.read_text()[-3000:]
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import service; print(service.__file__)"],
        log.parent,
        _clean(),
    )
    assert str(venv) in where and str(ROOT) not in where


def test_installed_wheel_explains_missing_benchmarks(venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(venv / "bin" / "perfloop"), "bench", "api"],
        cwd=tmp_path,
        env=_clean(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "benchmarks are not installed" in done.stderr
