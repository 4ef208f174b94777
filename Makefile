# perfloop: the two commands that matter are `make demo` and `make test`.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.perfloop-installed

.PHONY: demo test lint venv clean reliability

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/setup_env.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup_env.sh
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/perfloop demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Process-level tests (replicas, agent kills, API and PostgreSQL restarts, 1,000 jobs with random
# agent kills, trainer killed mid-round) and the compose smoke run:
# serial and alone, after `make test` (they restart PostgreSQL).
reliability: $(STAMP)
	PERFLOOP_RELIABILITY=1 $(BIN)/python -m pytest tests/reliability -p no:xdist -q --timeout 600
	bash scripts/compose_smoke.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
