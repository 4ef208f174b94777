"""``perfloop zoo measure``'s engine: records with provenance, skips with reasons, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfloop.zoo_measure import ZooMeasurer, corpus_path
from predictor.data.zoo import read_corpus
from predictor.spaces.zoo import sample_zoo

SIZE = "tests.device_agents.agent_test_backends:SizeBackend"


def test_measures_every_member_with_provenance(tmp_path: Path) -> None:
    members = sample_zoo(("kws", "llm"), per_family=2, seed=0)
    tally = ZooMeasurer(["ort-cpu", "litert"], tmp_path).measure(members)
    ort = list(read_corpus([corpus_path(tmp_path, "ort-cpu")]))
    assert [(r.space, r.spec_key) for r in ort] == [(m.family, m.spec_key) for m in members]
    for r in ort:
        assert r.latency_ms is not None and r.latency_ms > 0
        assert (r.backend, r.device, r.measurement_kind) == ("ort-cpu", "ort-cpu", "measured")
        assert r.clock == "thread_cpu" and r.threads == 1 and r.host_cpu and r.runtime_version
    litert = list(read_corpus([corpus_path(tmp_path, "litert")]))
    skipped = list(read_corpus([corpus_path(tmp_path, "litert", skipped=True)]))
    assert {r.space for r in litert} == {"kws"}  # LiteRT cannot lower the LM's Gather
    assert {r.space for r in skipped} == {"llm"}
    for r in skipped:
        assert r.latency_ms is None and r.skip_reason and "Gather" in r.skip_reason
    assert (tally.measured, tally.skipped) == (6, 2)


def test_rerun_adds_nothing_and_new_members_only(tmp_path: Path) -> None:
    members = sample_zoo(("kws",), per_family=3, seed=0)
    ZooMeasurer([SIZE], tmp_path).measure(members[:2])
    tally = ZooMeasurer([SIZE], tmp_path).measure(members)
    assert (tally.measured, tally.already) == (1, 2)
    records = list(read_corpus([corpus_path(tmp_path, SIZE)]))
    assert len({r.key for r in records}) == len(records) == 3
    assert records[0].clock == "simulated@100MHz" and records[0].host_cpu == "test-target"


def test_pair_pending_when_the_process_died_is_retried_once_then_skipped(tmp_path: Path) -> None:
    (member,) = sample_zoo(("kws",), per_family=1, seed=0)
    pending = {"backend": SIZE, "family": "kws", "spec": member.spec, "key": member.spec_key}
    path = tmp_path / f".pending.{SIZE}.json"
    path.write_text(json.dumps({**pending, "attempts": 1}))
    measurer = ZooMeasurer([SIZE], tmp_path)
    assert measurer.attempts == {member.key_for(SIZE): 1} and not path.exists()
    path.write_text(json.dumps({**pending, "attempts": 2}))  # it died a second time
    tally = ZooMeasurer([SIZE], tmp_path).measure([member])
    assert (tally.measured, tally.skipped, tally.already) == (0, 1, 1)
    (record,) = read_corpus([corpus_path(tmp_path, SIZE, skipped=True)])
    assert record.skip_reason == "the process died while profiling it 2x"
    assert not list(tmp_path.glob(".pending.*"))


def _zoo_cli(out: Path, per_family: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "perfloop",
        "zoo",
        "measure",
        "--families",
        "kws,plaincnn",
        "--per-family",
        str(per_family),
        "--backends",
        "ort-cpu",
        "--out",
        str(out),
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_run_resumes_without_duplicates(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    path = corpus_path(tmp_path, "ort-cpu")
    proc = subprocess.Popen(_zoo_cli(tmp_path, 3), env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and len(list(read_corpus([path]))) >= 2:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # no clean-up at all: as a crash or an OOM kill
    proc.wait()
    before = len(list(read_corpus([path])))
    assert 2 <= before < 6
    done = subprocess.run(_zoo_cli(tmp_path, 3), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"already in {tmp_path}: {before}" in done.stdout.replace("\n", "")
    skipped = corpus_path(tmp_path, "ort-cpu", skipped=True)
    records = list(read_corpus([p for p in (path, skipped) if p.exists()]))
    assert len({r.key for r in records}) == len(records) == 6
    assert all(r.skip_reason is None for r in records)  # the killed pair was retried
