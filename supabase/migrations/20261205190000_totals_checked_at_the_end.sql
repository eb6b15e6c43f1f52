-- A fitness competition's board is checked against the stored days once, as its standings become final.
--
-- A sync stores the days first (sync_fitness_days) and then writes the new total to each competition's object. When
-- that second step fails (the object unreachable for a moment, a deploy's switch-over), the days are in the database
-- but the board keeps the old total until the member's next sync; a member whose last sync before the end was such
-- a sync was paid on the old total. The object now reads, just before it makes the standings final, each member's
-- total from their stored days at their current days version, and takes only the totals newer than the ones it
-- applied (so a total it has stands). A member with a score correction recorded for the competition is left as the
-- board has them: a moved end raises its members' days versions and rescores that competition alone, and a
-- correction in their other competitions must outlive that.
--
-- rescore_inputs decides which competitions take syncs by now(); at the end of the grace period this competition
-- no longer does. rescore_inputs_at decides it at a given time (the last moment the standings still moved), and
-- rescore_inputs is that at now(): its body below is rescore_inputs's of 20261201100000_fitness_rules.sql with now()
-- replaced by p_at, and that definition is replaced here, so one copy is live.

CREATE FUNCTION public.rescore_inputs_at(p_user uuid, p_version bigint, p_at timestamptz) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    WITH comps AS (
      SELECT c.* FROM public.competitions c
      JOIN public.memberships m ON m.competition_id = c.id AND m.user_id = p_user AND m.disqualified_at IS NULL
      WHERE c.score_source = 'fitness' AND c.cancelled_at IS NULL AND c.starts_at <= p_at
        AND p_at < c.ends_at + make_interval(hours => c.grace_hours)
    )
    SELECT jsonb_build_object(
      'version', p_version,
      'time_zone', (SELECT p.time_zone FROM public.profiles p WHERE p.user_id = p_user),
      'competitions', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                 'id', c.id, 'metric', c.metric, 'starts_at', c.starts_at, 'ends_at', c.ends_at,
                 'scoring', c.scoring, 'clock', c.clock, 'allow_manual', c.allow_manual) ORDER BY c.id)
        FROM comps c), '[]'::jsonb),
      'days', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                 'day', f.day, 'source', f.source, 'user_entered', f.user_entered, 'steps', f.steps,
                 'active_minutes', f.active_minutes, 'distance_m', f.distance_m, 'calories', f.calories,
                 'held_metrics', to_jsonb(f.held_metrics)) ORDER BY f.day, f.source)
        FROM public.fitness_days f
        WHERE f.user_id = p_user AND EXISTS (
          SELECT 1 FROM comps c
          WHERE f.day >= (c.starts_at AT TIME ZONE 'UTC')::date - 1 AND f.day <= (c.ends_at AT TIME ZONE 'UTC')::date + 1)
      ), '[]'::jsonb),
      'holds', coalesce((
        SELECT jsonb_agg(jsonb_build_object('day', h.day, 'status', h.status) ORDER BY h.day)
        FROM public.fitness_holds h WHERE h.user_id = p_user), '[]'::jsonb)
    )
  $$;

CREATE OR REPLACE FUNCTION public.rescore_inputs(p_user uuid, p_version bigint) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$ SELECT public.rescore_inputs_at(p_user, p_version, now()) $$;

-- A page of the competition's (not disqualified) members who have a stored day and no score correction recorded in
-- it, in user-id order after p_after, each with their rescore inputs as of p_at at their current days version (not
-- raised: the object takes only a version newer than the one it applied). At most p_limit (1..200) members a page.
-- Returns
-- {"members": [{"user_id", "inputs"}], "next": the p_after of the next page, null after the last}.
CREATE FUNCTION public.member_totals(p_competition uuid, p_at timestamptz, p_after uuid, p_limit integer DEFAULT 100)
  RETURNS jsonb
  LANGUAGE plpgsql STABLE SET search_path = ''
  AS $$
  DECLARE
    wanted integer := least(greatest(coalesce(p_limit, 100), 1), 200);
    seen integer := 0;
    last_member uuid;
    page jsonb := '[]'::jsonb;
    member record;
  BEGIN
    IF p_competition IS NULL OR p_at IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a competition and a time are required';
    END IF;
    FOR member IN
      SELECT m.user_id, p.days_version FROM public.memberships m
      JOIN public.profiles p ON p.user_id = m.user_id
      WHERE m.competition_id = p_competition AND m.disqualified_at IS NULL
        AND (p_after IS NULL OR m.user_id > p_after)
        AND EXISTS (SELECT 1 FROM public.fitness_days f WHERE f.user_id = m.user_id)
        AND NOT EXISTS (SELECT 1 FROM public.admin_actions a
                        WHERE a.competition_id = p_competition AND a.user_id = m.user_id
                          AND a.action = 'score_corrected')
      ORDER BY m.user_id
      LIMIT wanted
    LOOP
      seen := seen + 1;
      last_member := member.user_id;
      page := page || jsonb_build_array(jsonb_build_object(
        'user_id', member.user_id,
        'inputs', public.rescore_inputs_at(member.user_id, member.days_version, p_at)));
    END LOOP;
    RETURN jsonb_build_object('members', page, 'next', CASE WHEN seen = wanted THEN last_member END);
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.rescore_inputs_at(uuid, bigint, timestamptz) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.member_totals(uuid, timestamptz, uuid, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_inputs_at(uuid, bigint, timestamptz),
  public.member_totals(uuid, timestamptz, uuid, integer) TO service_role;
