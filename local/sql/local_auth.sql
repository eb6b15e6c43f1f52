-- Local stack only (applied after supabase/migrations/). The role the local PostgREST gateway logs in as, as PostgREST
-- does on Supabase. And Supabase Auth creates an auth.users row when someone signs up, and only then can they hold a
-- token; locally tokens are minted by scripts/token and the tests without a sign-up, so a user's first profile row
-- creates their auth.users row here. Idempotent.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END
$$;
GRANT anon, authenticated, service_role TO authenticator;

CREATE OR REPLACE FUNCTION auth.local_sign_up() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    INSERT INTO auth.users (id) VALUES (NEW.user_id) ON CONFLICT DO NOTHING;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION auth.local_sign_up() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS profiles_local_sign_up ON public.profiles;
CREATE TRIGGER profiles_local_sign_up BEFORE INSERT ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION auth.local_sign_up();
