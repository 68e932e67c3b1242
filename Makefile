# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SAMPLE := resources/samples/sample.signproj

.PHONY: run test bench lint package clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The pinned CPU build of torch (on local disk); an unpinned torch would pull CUDA.
	$(PY) -m pip install -q torch==2.13.0
	# The video and cluster extras too: CI must run the video import and batch tests.
	$(PY) -m pip install -q -e '.[dev,video,cluster]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/signeditor gui $(SAMPLE)

# In a random order (pytest-randomly); the seed is printed at the end. Repeat an order: PYTEST_ARGS=--randomly-seed=N
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=2 $(PY) -m pytest -q -p randomly $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check signeditor tests benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache

# One-folder desktop app in dist/SignEditor, then a headless smoke test of the built app.
package: $(STAMP)
	$(PY) -m pip install -q "pyinstaller>=6.10"
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/signeditor.spec
	env -u QT_QPA_PLATFORM xvfb-run -a dist/SignEditor/SignEditor gui --no-recovery --exit-when-ready $(SAMPLE)
