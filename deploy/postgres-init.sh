#!/usr/bin/env bash
# The warehouse database beside Airflow's metadata database, owned by the `closeflow` user.
# Its password comes from WAREHOUSE_DB_PASSWORD (docker-compose.yml passes it from .env),
# never from this file. The postgres image runs this once, when the data volume is created;
# to change the password later: ALTER USER closeflow WITH PASSWORD '…' (and update .env).
set -euo pipefail
: "${WAREHOUSE_DB_PASSWORD:?WAREHOUSE_DB_PASSWORD is not set: see .env.example}"
# psql quotes the variable as an SQL literal (:'password'): any character is safe.
psql -v ON_ERROR_STOP=1 -v password="$WAREHOUSE_DB_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'EOSQL'
CREATE USER closeflow WITH PASSWORD :'password';
CREATE DATABASE warehouse OWNER closeflow;
EOSQL
