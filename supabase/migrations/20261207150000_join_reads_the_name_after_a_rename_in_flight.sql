-- A join introduces the member to the competition's object with the name and avatar it read from the profile. It read
-- them without a lock, so a rename (PATCH /api/v1/me, the avatar route, or the user's own write through the database
-- API) that had updated the profile but not yet committed was invisible to it: the join introduced the old name. The
-- rename could not make up for it: its member-change rows (profiles_member_person_change) and the Worker's list of
-- boards to tell name only the memberships committed when it ran, and the join's was not. The board showed the old
-- name until the member's next change. Now the join holds the profile FOR SHARE before reading it: a rename in flight
-- commits first and the join reads the new name; a rename that starts later waits for the join, and then sees (and
-- tells) its membership.
CREATE OR REPLACE FUNCTION public.join_and_introduce(competition uuid, p_user uuid) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    target public.competitions;
    joined public.memberships;
    v bigint;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    SELECT * INTO target FROM public.competitions c WHERE c.id = competition;
    PERFORM public.ensure_profile(p_user);
    IF target.id IS NOT NULL AND target.score_source = 'fitness' AND target.starts_at <= now() THEN
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = p_user
        RETURNING p.days_version INTO v;
    END IF;
    joined := public.join_competition(competition, p_user);
    -- Its own statement, so the read below (a new snapshot) sees the rename this waited for.
    PERFORM 1 FROM public.profiles p WHERE p.user_id = p_user FOR SHARE;
    RETURN jsonb_build_object(
      'membership', to_jsonb(joined),
      'competition', (SELECT to_jsonb(s) FROM public.competition_summaries s WHERE s.id = competition),
      'profile', (SELECT jsonb_build_object('user_id', p.user_id, 'display_name', p.display_name,
                                            'avatar_url', p.avatar_url, 'time_zone', p.time_zone,
                                            'person_version', p.person_version)
                  FROM public.profiles p WHERE p.user_id = p_user),
      'rescore', CASE WHEN v IS NOT NULL THEN public.rescore_inputs(p_user, v) END
    );
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.join_and_introduce(uuid, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.join_and_introduce(uuid, uuid) TO service_role;
