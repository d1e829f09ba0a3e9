# A thin wrapper over the launcher, for those who like `make`: run.py does the work
# (and works without make, on Windows too: `py run.py lab`).
#
#   make lab    = python3 run.py lab
#   make test   = python3 run.py test
# Extra options: `make lab LAB_OPTS="--port 9999 --no-browser"`, `make test PYTEST_OPTS="-k settings"`, JOBS=1.

PYTHON ?= python3
LAB_OPTS    ?=
PYTEST_OPTS ?=
JOBS        ?= 4
BENCH_OPTS  ?=

.DEFAULT_GOAL := help
.PHONY: help lab test db db-stop clean slides bench lock

help:
	@$(PYTHON) run.py help

lab:
	@$(PYTHON) run.py lab $(LAB_OPTS)

test:
	@$(PYTHON) run.py test --jobs $(JOBS) $(PYTEST_OPTS)

db db-stop clean slides lock:
	@$(PYTHON) run.py $@

bench:
	@$(PYTHON) run.py bench $(BENCH_OPTS)
