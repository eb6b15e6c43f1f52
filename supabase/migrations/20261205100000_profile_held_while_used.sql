-- A request racing its account's deletion is refused as a deleted account's, not a server error.
--
-- ensure_profile (20261204150000) read the profile without a lock. A sync (or a join, or PATCH /api/v1/me with a zone)
-- that read it just before delete_account (or the cascade from auth.users) deleted it went on to update a profile
-- that was gone: sync_fitness_days's UPDATE found no row, returned a rescore with a null days_version, and the Worker
-- answered 503 — and counted the database's sound answer against its breaker. Now ensure_profile holds the profile
-- with FOR KEY SHARE (what a foreign key takes) until the caller's transaction ends: a deletion waits for the request
-- that is using the profile, and a request that arrives while a deletion is under way waits for it, then finds no
-- profile and no auth user, and fails with PT401 as any later call with that token does. KEY SHARE leaves the
-- profile's own updates (days_version, a rename) free, so two requests of one user do not block each other.
CREATE OR REPLACE FUNCTION public.ensure_profile(p_user uuid) RETURNS public.profiles
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    found_profile public.profiles;
  BEGIN
    SELECT * INTO found_profile FROM public.profiles p WHERE p.user_id = p_user FOR KEY SHARE;
    IF FOUND THEN
      RETURN found_profile;
    END IF;
    BEGIN
      INSERT INTO public.profiles (user_id, display_name) VALUES (p_user, 'player-' || left(p_user::text, 8))
        ON CONFLICT (user_id) DO NOTHING;
    EXCEPTION WHEN foreign_key_violation THEN
      RAISE SQLSTATE 'PT401' USING MESSAGE = 'the account of this token was deleted';
    END;
    SELECT * INTO found_profile FROM public.profiles p WHERE p.user_id = p_user FOR KEY SHARE;
    RETURN found_profile;
  END
  $$;
