# Two commands: `make run` and `make test`. Both create .venv when it is missing and install what requirements
# ask for (again only when a requirements file changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint install bench classroom

# `make run TEACHER=passcode` (or `make classroom TEACHER=...`): a tab that types the passcode in the sidebar's
# Teacher box gets the teacher controls (ui/teacher.py). Without it there is no teacher mode.
ifdef TEACHER
export LATENT_LAB_TEACHER_PASSCODE := $(TEACHER)
endif

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# axe-core for the browser tests' accessibility checks (issue 22), from the npm registry into .venv
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix $(VENV)/axe --no-audit --no-fund --silent axe-core@4.14.1

install: $(STAMP) $(AXE)

# `streamlit run app.py`, in a process that imports torch and the rest while the server starts (ui/serve.py)
run: $(STAMP)
	$(BIN)/python -m ui.serve

# A class: one app per core behind HAProxy (sticky sessions) on :8501, plus Dask workers for training.
# Options go through ARGS, e.g. `make classroom ARGS="--apps 8 --workers 2"`; `ARGS=--help` lists them.
classroom: $(STAMP)
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq haproxy; }
	$(BIN)/python -m ae.run.classroom $(ARGS)

# Two pytest-xdist workers, each taking the next test when it is free (worksteal): ~12 min against 16.3 in one
# process on 2 cores (the cores sat a quarter idle while one test waited on a server, a worker or a browser).
test: $(STAMP) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal

# The quick lane while working: no training runs, no browser, two pytest workers (57 s on 2 cores, 85 s in one
# process). `make test` is what CI runs.
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/train_speed.py
