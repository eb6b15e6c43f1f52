-- An account's deletion tells every competition the user is in (DELETE /api/v1/me: each object forgets the member).
-- It listed those competitions before taking the profile's lock. A join in flight holds that row (it raises the
-- days version) until it commits, so the deletion waited for it and then deleted the new membership by cascade, but
-- its list, read before the wait, did not name that competition: the join went on to write the member to the board,
-- and nobody took them off it until the object next read the member-change log (after a delivery, or a read a few
-- seconds on; perhaps only at the end). Now the lock comes first and the list is read after it, in its own statement
-- (so it sees what committed during the wait); a join that starts later waits for the deletion and finds no profile.
CREATE OR REPLACE FUNCTION public.delete_account(p_user uuid) RETURNS jsonb
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
    SELECT p.avatar_url INTO avatar FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    existed := FOUND;
    SELECT coalesce(jsonb_agg(m.competition_id ORDER BY m.competition_id), '[]'::jsonb) INTO joined
      FROM public.memberships m WHERE m.user_id = p_user;
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
