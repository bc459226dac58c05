# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test install assets translations extract-translations update-translations \
        compile-translations migrate demo-data bench clean

# Where `make run` serves: `make run PORT=8080`, or `make run HOST=0.0.0.0 PORT=8080` to be
# reached from other machines (the environment's HOST and PORT count too). Links in emails
# start with BASE_URL, which follows them unless it is set.
# A wildcard host (0.0.0.0, ::) is where to listen, not an address to visit: links and the
# printed address then use this machine's loopback; an IPv6 host is bracketed.
HOST ?= 127.0.0.1
PORT ?= 5000
LISTEN = $(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)):$(PORT)
VISIT = $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(if $(filter ::,$(HOST)),[::1],$(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)))):$(PORT)

run: export BASE_URL ?= http://$(VISIT)
run: install assets compile-translations  ## Build, migrate, load demo data and serve on HOST:PORT (127.0.0.1:5000)
	@case "$(PORT)" in ''|*[!0-9]*) echo "PORT must be a port number, like 8080 (not '$(PORT)')"; exit 2;; esac
	$(BIN)/flask db upgrade
	$(BIN)/flask demo-data
	@echo "Serving the portal at http://$(VISIT) (Ctrl+C to stop)"
	@# The sender delivers what a request could not (mail server down) and stops with gunicorn.
	$(BIN)/flask send-email --watch & sender=$$!; \
	trap 'kill $$sender 2>/dev/null; wait $$sender 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/gunicorn --workers 2 --bind $(LISTEN) --access-logfile - wsgi:app

test: install assets compile-translations  ## Lint, layers, types, then the whole suite (SQLite, PostgreSQL if set, browser if Chromium)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

assets: portal/static/build/portal.css

portal/static/build/portal.css: node_modules/.installed assets/build.mjs $(wildcard assets/scss/*.scss)
	npm run --silent build

# Translations: extract marked strings, update the catalogues, compile them.
extract-translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o portal/translations/messages.pot .

update-translations: extract-translations
	$(BIN)/pybabel update --no-fuzzy-matching -i portal/translations/messages.pot -d portal/translations

translations: update-translations compile-translations

compile-translations: install
	@$(BIN)/pybabel compile -d portal/translations >/dev/null

migrate: install
	$(BIN)/flask db upgrade

demo-data: migrate
	$(BIN)/flask demo-data

bench: install assets compile-translations  ## National-scale benchmark (not part of make test)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) node_modules portal/static/build
