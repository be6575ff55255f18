# Two commands: `make run` (install, migrate, load demo data, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000

.PHONY: install run demo test test-fast lint bench lock messages check

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.lock
	touch $@

# ECharts comes from the npm registry at build time and is served as a static file (no CDN).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo

run: demo
	@echo "门户地址 / Portal: http://$(HOST)/  (管理后台 /admin/，接口文档 /api/docs/ 见页脚)"
	$(PY) manage.py runserver --insecure $(HOST)

# Lint and import contracts first (seconds), then the suite.
test: install lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench --json bench-results.json $(BENCH_ARGS)

# Regenerate requirements.lock from the pins in pyproject.toml (needs the network).
lock:
	rm -rf /tmp/qzzj-lock && $(PYTHON) -m venv /tmp/qzzj-lock
	/tmp/qzzj-lock/bin/pip install --quiet $$($(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(" ".join(repr(d) for d in p["dependencies"] + p["optional-dependencies"]["dev"]))')
	( echo "# Exact versions of every package, direct and transitive (pip freeze of the pins in pyproject.toml)."; \
	  echo "# make install uses this file; regenerate with \`make lock\` after changing pyproject.toml."; \
	  /tmp/qzzj-lock/bin/pip freeze ) > requirements.lock

messages:
	cd $(CURDIR) && $(PY) manage.py makemessages -l zh_Hans --no-obsolete -i ".venv/*" -i "staticfiles/*" -i "tests/*" -i "node_modules/*"
	$(PY) manage.py compilemessages -l zh_Hans -i ".venv"
