-- Creates the databases of the PostgreSQL services (customer, orders, billing, and inventory
-- for when it runs on PostgreSQL). The postgres image runs this once, on first start with an
-- empty data volume, through psql. A service does not create its database: it must exist.
-- Idempotent (\gexec runs the CREATE only where the database is missing), so it can be re-run:
--   docker compose exec -T postgres psql -U postgres -v ON_ERROR_STOP=1 < docker/postgres/init.sql
SELECT format('CREATE DATABASE %I', db)
FROM unnest(ARRAY['customer', 'orders', 'billing', 'inventory']) AS db
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = db)
\gexec
