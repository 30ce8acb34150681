#!/usr/bin/env bash
# Set up everything closeflow needs on a bare Debian machine, from the project's own files:
# system packages (tesseract + eng/chi_sim language data, fonts for the sample documents),
# uv, the Python environment from uv.lock, and Airflow's metadata database.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-nld tesseract-ocr-spa tesseract-ocr-osd fonts-dejavu-core fonts-wqy-zenhei"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "setup: installing system packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
for lang in chi_sim deu fra nld spa; do
  tesseract --list-langs 2>/dev/null | grep -qx "$lang" || { echo "setup: tesseract $lang missing" >&2; exit 1; }
done

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install -q --disable-pip-version-check uv
fi
UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet

# Airflow's metadata DB (SQLite in the embedded default; idempotent).
mkdir -p "${AIRFLOW_HOME:?AIRFLOW_HOME must be set (the Makefile sets it)}"
if [ ! -f "$AIRFLOW_HOME/.migrated" ] || [ uv.lock -nt "$AIRFLOW_HOME/.migrated" ]; then
  echo "setup: migrating Airflow metadata DB at ${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN}"
  .venv/bin/airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -30 "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
  # the one-slot pool every task that writes the warehouse runs in
  .venv/bin/python -c "from closeflow.airflow import ensure_pool; ensure_pool()" >>"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
    || { tail -30 "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
  touch "$AIRFLOW_HOME/.migrated"
fi
echo "setup: ready (python $(.venv/bin/python -V 2>&1 | cut -d' ' -f2), airflow $(.venv/bin/python -c 'import airflow; print(airflow.__version__)'), $(tesseract --version 2>&1 | head -1))"
