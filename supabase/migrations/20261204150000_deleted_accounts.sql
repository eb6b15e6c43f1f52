-- A deleted account's token is refused, not a server error.
--
-- Deleting an account (DELETE /api/v1/me, or the auth user in Supabase) does not revoke the access tokens already
-- issued: they stay valid until they expire. Every later call that makes sure the profile exists (GET /api/v1/me, a
-- join, a sync, an avatar) inserted a profile for a user id with no auth user, failed the foreign key to auth.users
-- (23503) and reached the app as 500 internal. Now such a call fails with SQLSTATE PT401 (PostgREST answers 401), which
-- the Worker answers as 401 invalid_token: the app signs the user out.

-- As before, the user's profile, created with the default name when missing. An existing profile is read without
-- trying an insert first (the common case is one cheap read); a missing one is inserted, and when the auth user does
-- not exist (deleted) the call fails with PT401.
CREATE OR REPLACE FUNCTION public.ensure_profile(p_user uuid) RETURNS public.profiles
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    found_profile public.profiles;
  BEGIN
    SELECT * INTO found_profile FROM public.profiles p WHERE p.user_id = p_user;
    IF FOUND THEN
      RETURN found_profile;
    END IF;
    BEGIN
      INSERT INTO public.profiles (user_id, display_name) VALUES (p_user, 'player-' || left(p_user::text, 8))
        ON CONFLICT (user_id) DO NOTHING;
    EXCEPTION WHEN foreign_key_violation THEN
      RAISE SQLSTATE 'PT401' USING MESSAGE = 'the account of this token was deleted';
    END;
    SELECT * INTO found_profile FROM public.profiles p WHERE p.user_id = p_user;
    RETURN found_profile;
  END
  $$;
