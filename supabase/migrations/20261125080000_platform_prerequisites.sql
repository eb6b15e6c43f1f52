-- What a Supabase project provides before any migration runs, created here only where it is missing, so the same
-- migrations apply to a Supabase project (where this file changes nothing) and to an empty Postgres (`supabase db
-- push --db-url`, the local stack, CI). Nothing here replaces an existing object.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;

DO $$
BEGIN
  IF to_regnamespace('auth') IS NOT NULL THEN
    RETURN; -- a Supabase project: Auth owns this schema
  END IF;
  CREATE SCHEMA auth;
  GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
  GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
  -- Supabase's helpers, reading the claims PostgREST sets per request. A pooled connection that once set
  -- request.jwt.claims reads it back as '' later, and ''::json fails: nullif.
  CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS 'SELECT coalesce(nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb, ''{}''::jsonb)';
  CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS 'SELECT nullif(auth.jwt() ->> ''sub'', '''')::uuid';
  CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS 'SELECT nullif(auth.jwt() ->> ''role'', '''')';
  -- Supabase Auth's users table, as far as the migrations reference it (user rows cascade from it); the API roles
  -- have no access to it, as on Supabase.
  CREATE TABLE auth.users (
    id         uuid PRIMARY KEY,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  REVOKE ALL ON auth.users FROM anon, authenticated;
  -- Supabase grants the API roles access to what migrations create in public (later migrations take back what they
  -- must).
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO anon, authenticated, service_role;
END
$$;
