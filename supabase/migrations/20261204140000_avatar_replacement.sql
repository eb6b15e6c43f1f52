-- A new avatar replaces the old one in storage too.
--
-- POST /api/v1/me/avatar pointed the profile at the new image and left the previous one in the bucket, public under
-- its old URL, forever: even DELETE /api/v1/me removed only the image the profile showed last, although the contract
-- says the account's avatar images are deleted. The Worker now removes the previous image once the profile shows the
-- new one, and needs to know which one that was at the moment of the change: two uploads of one user racing would
-- each read the same previous image from a separate read, and one image would be left behind.

-- Points p_user's profile at p_url and returns {"profile" (user_id, display_name, avatar_url, time_zone),
-- "replaced" (the avatar URL the profile showed until now, or null)}; null when the user has no profile. The row is
-- locked first, so of two concurrent calls the second sees the first one's URL as the one it replaces. Avatar keys
-- are the user's own (the Worker hashes the user id with the bytes), so no other profile shows a replaced image.
CREATE FUNCTION public.set_avatar(p_user uuid, p_url text) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    previous text;
    updated public.profiles;
  BEGIN
    SELECT p.avatar_url INTO previous FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    UPDATE public.profiles p SET avatar_url = p_url WHERE p.user_id = p_user RETURNING * INTO updated;
    RETURN jsonb_build_object(
      'profile', jsonb_build_object('user_id', updated.user_id, 'display_name', updated.display_name,
                                    'avatar_url', updated.avatar_url, 'time_zone', updated.time_zone),
      'replaced', previous);
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.set_avatar(uuid, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.set_avatar(uuid, text) TO service_role;
