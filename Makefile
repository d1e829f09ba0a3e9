# The course's commands. Run `make help` for the list.
#
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run the whole suite (tests/ + every notebook under strict nbval)

.DEFAULT_GOAL := help
.PHONY: help venv db db-stop lab test clean

PYTHON ?= python3
VENV   := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
PY := $(BIN)/python

# Extra options: `make lab LAB_OPTS="--port 9999 --no-browser"`, `make test PYTEST_OPTS="-k settings"`.
LAB_OPTS    ?=
PYTEST_OPTS ?=
# Parallel workers for the suite (each notebook has its own workspace and database).
JOBS        ?= 2
# Jupyter refuses to run as root unless told; containers and CI run as root.
ROOT_FLAG   := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

help: ## list the targets
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 18

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/.installed ## create .venv and install requirements.txt (skipped when unchanged)

db: venv ## make sure the database is up (embedded PostgreSQL unless DATABASE_URL / DB_* / .env say otherwise)
	@$(PY) -m app.backend.DB_config

db-stop: ## stop the embedded PostgreSQL
	@$(PY) -m app.backend.dev_database stop

lab: db ## open the course in JupyterLab (extra options: LAB_OPTS="--port 8899 --no-browser")
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=notebooks \
		--LabApp.default_url=/lab/tree/00-welcome-and-setup.ipynb $(LAB_OPTS)

test: db ## run tests/ and every notebook under strict nbval
	$(PY) -m pytest -n $(JOBS) --dist loadfile $(PYTEST_OPTS)

# Extra options: `make bench BENCH_OPTS="--quick"` (skips the slow fresh-clone runs), "--repeats 5".
BENCH_OPTS ?=
.PHONY: bench
bench: db ## time the notebooks, %alembic, the database, the setup call and a fresh clone's `make test` (build/bench.json)
	$(PY) tests/benchmark.py $(BENCH_OPTS)

.PHONY: slides
slides: venv ## build offline reveal.js decks of every notebook into build/slides/ (open build/slides/index.html)
	cd notebooks && ../$(PY) -m course.slides

clean: db-stop ## stop the database and remove workspaces and the embedded data (keeps .venv)
	rm -rf notebooks/workspaces .pgdata build
