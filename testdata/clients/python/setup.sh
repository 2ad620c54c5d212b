#!/usr/bin/env bash
# Installs the published Python Pyroscope client (pyroscope-io from PyPI) into ./.venv for the
# real-client conformance tests (test/e2e/clients.test.ts). Idempotent: does nothing when the venv
# already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")"
PYROSCOPE_IO_VERSION="$(sed -n 's/^pyroscope-io==//p' requirements.txt)"
PY="${PYTHON:-python3}"
if [ -x .venv/bin/python ] && .venv/bin/python - "$PYROSCOPE_IO_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
import pyroscope  # noqa: F401  (the native extension must load)
sys.exit(0 if version("pyroscope-io") == sys.argv[1] else 1)
PYEOF
then
  echo "python client: .venv already has pyroscope-io==$PYROSCOPE_IO_VERSION"
  exit 0
fi
rm -rf .venv
if ! "$PY" -m venv .venv 2>/dev/null; then
  # Debian's own python3 needs the python3-venv package for `-m venv` (ensurepip).
  echo "python3 -m venv failed; installing python3-venv" >&2
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  fi
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --disable-pip-version-check --quiet --only-binary=:all: -r requirements.txt
.venv/bin/python -c 'import pyroscope; from importlib.metadata import version; print("python client: installed pyroscope-io", version("pyroscope-io"))'
