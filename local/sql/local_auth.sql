-- Local stack only (applied after supabase/migrations/). The role the local PostgREST gateway logs in as, as PostgREST
-- does on Supabase. And Supabase Auth creates an auth.users row when someone signs up, and only then can they hold a
-- token; locally tokens are minted by scripts/token and the tests without a sign-up, so a user's first profile row
-- creates their auth.users row here (unless the user was deleted). Idempotent.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END
$$;
GRANT anon, authenticated, service_role TO authenticator;

-- Supabase Auth never signs a deleted user up again (a new sign-up gets a new id), while the deleted user's access
-- tokens stay valid until they expire. So a deleted id is remembered, and the sign-up below does not bring it back:
-- the profile insert then fails as it does on Supabase.
CREATE TABLE IF NOT EXISTS auth.local_deleted_users (id uuid PRIMARY KEY);
REVOKE ALL ON auth.local_deleted_users FROM PUBLIC, anon, authenticated;

CREATE OR REPLACE FUNCTION auth.local_remember_deleted() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    INSERT INTO auth.local_deleted_users (id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
    RETURN OLD;
  END
  $$;
REVOKE EXECUTE ON FUNCTION auth.local_remember_deleted() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS users_local_remember_deleted ON auth.users;
CREATE TRIGGER users_local_remember_deleted AFTER DELETE ON auth.users
  FOR EACH ROW EXECUTE FUNCTION auth.local_remember_deleted();

CREATE OR REPLACE FUNCTION auth.local_sign_up() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM auth.local_deleted_users d WHERE d.id = NEW.user_id) THEN
      INSERT INTO auth.users (id) VALUES (NEW.user_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION auth.local_sign_up() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS profiles_local_sign_up ON public.profiles;
CREATE TRIGGER profiles_local_sign_up BEFORE INSERT ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION auth.local_sign_up();
