# Everything Safecase needs is installed into .venv by these targets; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick-test lint bench screenshots clean bundle bundle-deps bundle-test bench-bundle bundle-tarball

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/safecase

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy

# Every test: lint and types, the suite, then the Linux bundle built and run from a clean
# environment (about 30 s more; `make quick-test` leaves the bundle out).
test: quick-test
	$(MAKE) bundle-test

quick-test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The team server part starts a private PostgreSQL cluster (skipped with a note without one).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.server

# The self-contained one-folder bundle for this machine's system, in dist/safecase/.
BUNDLE_STAMP := $(VENV)/.bundle-tools
$(BUNDLE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bundle]'
	touch $(BUNDLE_STAMP)

# On Linux, what the build machine needs besides Python (the xcb libraries the bundle carries,
# icupkg and a compiler for the ICU data, GNOME Keyring for the bundle test): installed with
# apt-get when run as root, named otherwise (and a failure under CI).
bundle-deps:
	@if [ "$$(uname -s)" = Linux ]; then sh installer/linux/build-deps.sh; fi

# PyInstaller's cache lives in this checkout: --clean empties it, and a shared one in the home
# folder would be emptied under any other build running at the same time.
bundle: $(BUNDLE_STAMP) bundle-deps
	PYINSTALLER_CONFIG_DIR=$(CURDIR)/build/pyinstaller-cache \
		$(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller installer/safecase.spec
	@du -sh dist/safecase

# Builds the bundle and runs it from a clean environment (the last part of make test).
bundle-test: bundle
	QT_QPA_PLATFORM=offscreen SAFECASE_BUNDLE=dist/safecase/safecase \
		$(BIN)/python -m pytest -m bundle tests/bundle -q

# The Linux tarball: the bundle, its per-user installer and the menu entry.
bundle-tarball: bundle
	rm -rf build/tarball && mkdir -p build/tarball/safecase-linux
	cp -R dist/safecase installer/linux/install.sh installer/safecase.desktop.in \
		build/tarball/safecase-linux/
	tar -C build/tarball -czf dist/safecase-$$(dist/safecase/safecase --version | \
		sed 's/^Safecase //')-linux-$$(uname -m).tar.gz safecase-linux
	@ls -lh dist/*.tar.gz

bench-bundle: bundle
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.bundle dist/safecase/safecase

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app.ui.screenshots docs/screenshots

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache *.egg-info
