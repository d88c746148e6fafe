-- Chirpstream's database roles and database, for psql as a superuser. Safe to run again: it
-- creates what is missing and sets every password anew (that is how a password is rotated).
-- The passwords come from the environment (CHIRP_OWNER_PASSWORD, CHIRP_WRITER_PASSWORD,
-- CHIRP_READER_PASSWORD), never from a command line other local users could read.
--
--   chirp         owns the database and the schema; only `chirp migrate` and `chirp recompute`
--                 log in as it
--   chirp_writer  the loader: adds rows, never changes the schema, never deletes or rewrites a
--                 stored tweet (the grants themselves come from `chirp migrate`)
--   chirp_reader  the chirp CLI's questions and Superset: reads facts and rollups only, in
--                 read-only transactions, 30 s per statement and 5 min idle in a transaction by
--                 default (the role may change those for its own session), 1 GB of temporary
--                 files per query (which it may not), without JIT compilation (the CLI's and the
--                 dashboard's questions read rollups and a minute or two of facts: compiling one
--                 took longer than running it)
--
-- Passwords are stored as SCRAM-SHA-256 (PostgreSQL 15's default password_encryption).
\set ON_ERROR_STOP on
\getenv owner_pw CHIRP_OWNER_PASSWORD
\getenv writer_pw CHIRP_WRITER_PASSWORD
\getenv reader_pw CHIRP_READER_PASSWORD
SET password_encryption = 'scram-sha-256';

SELECT format('CREATE ROLE %I', name) FROM unnest(ARRAY['chirp', 'chirp_writer', 'chirp_reader']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE chirp WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 8 PASSWORD :'owner_pw';
ALTER ROLE chirp_writer WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 32 PASSWORD :'writer_pw';
ALTER ROLE chirp_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 20 PASSWORD :'reader_pw';
ALTER ROLE chirp_reader SET statement_timeout = '30s';
ALTER ROLE chirp_reader SET idle_in_transaction_session_timeout = '5min';
ALTER ROLE chirp_reader SET default_transaction_read_only = on;
ALTER ROLE chirp_reader SET temp_file_limit = '1GB';
ALTER ROLE chirp_reader SET jit = off;

SELECT 'CREATE DATABASE chirp OWNER chirp ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chirp') \gexec
ALTER DATABASE chirp OWNER TO chirp;
-- Nobody else connects; the writer may also make the session's staging tables.
REVOKE ALL ON DATABASE chirp FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE chirp TO chirp_writer;
GRANT CONNECT ON DATABASE chirp TO chirp_reader;
REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC;

\connect chirp
-- Only the owner creates objects (PostgreSQL 15's default; older clusters granted it to all).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Advisory locks serialize migrations and partition changes (the owner's functions take them):
-- a role that could hold one idle would stall every loader. Large objects are storage outside
-- every table's privileges. Neither is anyone's but the owner's here.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname ~ '^pg_(try_)?advisory_' LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO chirp', f);
    END LOOP;
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname IN ('lo_create', 'lo_creat', 'lo_from_bytea', 'lo_import') LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
