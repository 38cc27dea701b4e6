-- Grants for running the server with a database role that cannot rewrite
-- the trace (留痕). Run as the owner of the schema after `npm run migrate`
-- (migrations run as the owner; the server then connects as bpmn_server).
--
--   psql "$OWNER_DATABASE_URL" -v server_role=bpmn_server -f sql/trace-grants.sql
--
-- The server needs ordinary rights on every other table, and on the trace
-- only INSERT and SELECT: rows can be added and read, never changed or
-- removed. Someone with the owner's rights who edits a row without
-- recomputing every later hash is caught by the SM3 chain (npm run
-- verify-trace, GET /engine-rest/trace/verify); one who recomputes them is
-- caught only against a chain head kept outside the database (SECURITY.md).
-- Re-run this file after every migration: grants cover existing tables.

\if :{?server_role}
\else
  \set server_role bpmn_server
\endif

GRANT USAGE ON SCHEMA public TO :"server_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"server_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"server_role";

-- The trace: append and read only.
REVOKE UPDATE, DELETE, TRUNCATE ON trace FROM :"server_role";
GRANT SELECT, INSERT ON trace TO :"server_role";

-- Migrations stay with the owner: the server role must not alter the schema.
REVOKE CREATE ON SCHEMA public FROM :"server_role";
