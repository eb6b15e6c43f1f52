-- DELETE /api/v1/me (API.md, "People on the board"): one transaction deletes the auth user and the profile, and with
-- them (ON DELETE CASCADE) memberships, fitness days, holds and score rows. Final results keep their rows and
-- user_id: finished standings keep their ranks and amounts, shown as "deleted player". Deleting the user in
-- Supabase Auth has the same effect in the database (the cascade of 20261201090000).

-- Returns the competitions the user was in (so the Worker can take them off the live boards) and their avatar URL
-- when no other profile shows the same image (avatars are content-addressed, so two users may share one object).
-- SECURITY DEFINER: the migration's owner may delete from auth.users; service_role alone may call it.
CREATE FUNCTION public.delete_account(p_user uuid) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
  AS $$
  DECLARE
    joined jsonb;
    avatar text;
    existed boolean;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    SELECT coalesce(jsonb_agg(m.competition_id ORDER BY m.competition_id), '[]'::jsonb) INTO joined
      FROM public.memberships m WHERE m.user_id = p_user;
    SELECT p.avatar_url INTO avatar FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    existed := FOUND;
    IF avatar IS NOT NULL
       AND EXISTS (SELECT 1 FROM public.profiles o WHERE o.avatar_url = avatar AND o.user_id <> p_user) THEN
      avatar := NULL;
    END IF;
    DELETE FROM public.profiles p WHERE p.user_id = p_user;
    DELETE FROM auth.users u WHERE u.id = p_user;
    RETURN jsonb_build_object('existed', existed, 'competitions', joined, 'avatar_url', avatar);
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.delete_account(uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.delete_account(uuid) TO service_role;
