#!/usr/bin/env bash
# Installs (Debian's package) and starts a PostgreSQL server on 127.0.0.1 for the tests,
# creates the role and database they use, and prints the URL to export as
# REGIOTWIN_TEST_DATABASE_URL. Idempotent: a running server is reused.
set -euo pipefail

DB_USER=${REGIOTWIN_PG_USER:-regiotwin}
DB_PASSWORD=${REGIOTWIN_PG_PASSWORD:-regiotwin}
DB_NAME=${REGIOTWIN_PG_DB:-regiotwin_test}
PORT=${REGIOTWIN_PG_PORT:-5432}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this is not root: install Debian's 'postgresql' package" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main -p "$PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')

for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 1
done

as_postgres "psql -p $port -v ON_ERROR_STOP=1 -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\" | grep -q 1 || psql -p $port -v ON_ERROR_STOP=1 -qc \"CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD'\"" >&2
as_postgres "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB_NAME'\" | grep -q 1 || createdb -p $port -O $DB_USER $DB_NAME" >&2

echo "postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$port/$DB_NAME"
