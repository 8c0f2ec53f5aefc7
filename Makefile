# rrkit: `make demo` records a sample and inspects it; `make test` installs everything and runs every check.
PY ?= python3
PIP := $(PY) -m pip
# Debian packages the viewer tests need (Qt under Xvfb, Mesa GL/EGL).
DEBS := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0 libxcb-image0 \
        libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxkbcommon-x11-0 libgl1 libegl1 \
        libgl1-mesa-dri libegl-mesa0 libglib2.0-0 libfontconfig1 libdbus-1-3

.PHONY: demo test check lint typecheck deps sysdeps clean

demo:
	$(PIP) install -q --disable-pip-version-check -e .
	$(PY) examples/demo.py

test: deps check

check: lint typecheck
	$(PY) -m pytest

lint:
	$(PY) -m ruff check .

typecheck:
	$(PY) -m mypy

deps: sysdeps
	$(PIP) install -q --disable-pip-version-check -e '.[viewer,test,dev]'

sysdeps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "The viewer tests need these Debian packages; install them as root, then rerun:"; \
		echo "  sudo apt-get install $$missing"; exit 1; \
	fi

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
