# rrkit: `make demo` records a sample and inspects it; `make test` installs everything and runs every check.
# Everything is installed into a virtual environment in .venv (override with VENV=...).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Debian packages the viewer tests need (Qt under Xvfb, Mesa GL/EGL).
DEBS := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0 libxcb-image0 \
        libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxkbcommon-x11-0 libgl1 libegl1 \
        libgl1-mesa-dri libegl-mesa0 libglib2.0-0 libfontconfig1 libdbus-1-3

.PHONY: demo test check lint typecheck deps sysdeps clean

demo: $(PY)
	$(PIP) install -e '.[viewer]'
	$(PY) examples/demo.py demo.rrd

test: deps check

check:
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

deps: sysdeps $(PY)
	$(PIP) install -e '.[viewer,test,dev,ray]'

$(PY):
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || $(MAKE) --no-print-directory sysdeps DEBS=python3-venv
	$(PYTHON) -m venv $(VENV)

sysdeps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "These Debian packages are needed; install them as root, then rerun:"; \
		echo "  sudo apt-get install $$missing"; exit 1; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis demo.rrd demo.png
