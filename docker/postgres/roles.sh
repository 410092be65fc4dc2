#!/usr/bin/env bash
# One login role per PostgreSQL service (the local stack's posture, scripts/stack), run by the
# postgres image once, on first start, after 10-databases.sql, as the OS user postgres over the
# unix socket:
#   - the role (LOGIN and REPLICATION, for its outbox relay's stream; not superuser, no
#     CREATEDB, CREATEROLE or BYPASSRLS) with
#     its password as the SCRAM-SHA-256 verifier docker/credentials computed (<role>.scram):
#     the password itself never reaches this container, the server, a log or argv;
#   - the database of its name, owned by it; CONNECT and TEMPORARY on it, and every right on
#     its schema public, revoked from PUBLIC, so no other role may even connect.
# The image executes it (it is executable in git) or, where the mode was lost, sources it: the
# subshell keeps its shell options out of the image's entrypoint either way.
(
set -euo pipefail

CREDS="${SAGA_POSTGRES_CREDENTIALS:-/run/saga/postgres}"
ROLES=(customer orders billing inventory)

for role in "${ROLES[@]}"; do
  verifier="$(tr -d '\n' <"$CREDS/$role.scram")"
  [[ "$verifier" =~ ^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$ ]] || {
    echo "roles.sh: $CREDS/$role.scram is not a SCRAM-SHA-256 verifier" >&2
    exit 1
  }
  psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --no-password \
    --dbname postgres <<SQL
SELECT format('CREATE ROLE %I', '$role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')
\gexec
ALTER ROLE "$role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS
  PASSWORD '$verifier';
SELECT format('CREATE DATABASE %I OWNER %I', '$role', '$role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$role')
\gexec
ALTER DATABASE "$role" OWNER TO "$role";
REVOKE CONNECT, TEMPORARY ON DATABASE "$role" FROM PUBLIC;
SQL
  psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --no-password \
    --dbname "$role" <<SQL
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
  echo "roles.sh: role $role owns database $role; CONNECT revoked from PUBLIC"
done
)
