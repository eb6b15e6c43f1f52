-- Local stack only, before supabase/migrations/: where applied migrations are recorded (the table the Supabase CLI
-- keeps, in a shape its `db push` also accepts). What a Supabase project itself provides (roles, the auth schema)
-- comes from the first migration, which creates it only where it is missing. Idempotent.

CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version    text PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
