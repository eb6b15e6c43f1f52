-- A join in one database call.
--
-- After a join the Worker introduces the member to the competition's object (the competition's settings and the
-- member's name and avatar travel with them), and a member of a started fitness competition is scored at once from
-- the days they stored before joining. That took three calls in a row: join_competition, then the competition and
-- the profile, then the member's rescore inputs. join_and_introduce answers all three in the join's transaction.
-- join_competition stays as it is: a Worker of the previous version calls it during a deploy.

-- Joins p_user to the competition as join_competition does (same refusals: PT404, PT403, PT409) and returns
-- {"membership", "competition" (its competition_summaries row, the new member counted), "profile" (user_id,
-- display_name, avatar_url, time_zone), "rescore"}. "rescore" is rescore_inputs with the member's days version
-- raised when the competition is a started fitness competition (as a sync without samples: the object drops a
-- total computed before it), else null. Raising it locks the version row before join_competition locks the
-- competition row, the order account deletion takes them in; other joins lock as join_competition does.
CREATE FUNCTION public.join_and_introduce(competition uuid, p_user uuid) RETURNS jsonb
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
    RETURN jsonb_build_object(
      'membership', to_jsonb(joined),
      'competition', (SELECT to_jsonb(s) FROM public.competition_summaries s WHERE s.id = competition),
      'profile', (SELECT jsonb_build_object('user_id', p.user_id, 'display_name', p.display_name,
                                            'avatar_url', p.avatar_url, 'time_zone', p.time_zone)
                  FROM public.profiles p WHERE p.user_id = p_user),
      'rescore', CASE WHEN v IS NOT NULL THEN public.rescore_inputs(p_user, v) END
    );
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.join_and_introduce(uuid, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.join_and_introduce(uuid, uuid) TO service_role;
