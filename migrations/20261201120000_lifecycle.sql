-- Competition lifecycle (API.md, "Competition lifecycle"): a cancelled competition keeps its row (with when), takes
-- no joins and no fitness rescoring, and shows status `cancelled`.

ALTER TABLE public.competitions ADD COLUMN cancelled_at timestamptz;

CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at
  FROM public.competitions c;

CREATE OR REPLACE FUNCTION public.join_competition(competition uuid, p_user uuid) RETURNS public.memberships
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    target public.competitions;
    joined public.memberships;
  BEGIN
    SELECT * INTO target FROM public.competitions WHERE id = competition FOR UPDATE;
    IF NOT FOUND THEN
      RAISE SQLSTATE 'PT404' USING MESSAGE = 'competition not found';
    END IF;
    SELECT * INTO joined FROM public.memberships m WHERE m.competition_id = competition AND m.user_id = p_user;
    IF FOUND THEN
      IF joined.disqualified_at IS NOT NULL THEN
        RAISE SQLSTATE 'PT403' USING MESSAGE = 'disqualified from this competition';
      END IF;
      RETURN joined;
    END IF;
    IF target.cancelled_at IS NOT NULL THEN
      RAISE SQLSTATE 'PT409' USING MESSAGE = 'competition was cancelled';
    END IF;
    IF target.ends_at <= now() THEN
      RAISE SQLSTATE 'PT409' USING MESSAGE = 'competition has finished';
    END IF;
    IF target.max_participants IS NOT NULL AND target.participants >= target.max_participants THEN
      RAISE SQLSTATE 'PT409' USING MESSAGE = 'competition is full';
    END IF;
    PERFORM public.ensure_profile(p_user);
    INSERT INTO public.memberships (competition_id, user_id) VALUES (competition, p_user) ON CONFLICT DO NOTHING;
    SELECT * INTO joined FROM public.memberships m WHERE m.competition_id = competition AND m.user_id = p_user;
    RETURN joined;
  END
  $$;

CREATE OR REPLACE FUNCTION public.sync_fitness_days(p_user uuid, p_source text, p_days jsonb)
  RETURNS TABLE (competition_id uuid, score bigint, version bigint)
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  #variable_conflict use_column
  DECLARE
    v bigint;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    PERFORM public.ensure_profile(p_user);
    UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = p_user
      RETURNING p.days_version INTO v;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_days) AS d(day date)
               WHERE d.day IS NULL OR d.day > (now() AT TIME ZONE 'UTC')::date + 1) THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'a day is missing or in the future';
    END IF;
    INSERT INTO public.fitness_days AS f (user_id, source, day, steps, active_minutes, distance_m, calories)
      SELECT p_user, p_source, d.day, coalesce(d.steps, 0), coalesce(d.active_minutes, 0),
             coalesce(d.distance_m, 0), coalesce(d.calories, 0)
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint, calories bigint)
      ON CONFLICT (user_id, source, day) DO UPDATE
        SET steps = EXCLUDED.steps, active_minutes = EXCLUDED.active_minutes, distance_m = EXCLUDED.distance_m,
            calories = EXCLUDED.calories, updated_at = now();
    RETURN QUERY
      SELECT c.id,
             coalesce((
               SELECT sum(best)::bigint FROM (
                 SELECT max(CASE c.metric
                              WHEN 'steps' THEN f.steps
                              WHEN 'active_minutes' THEN f.active_minutes
                              WHEN 'distance_m' THEN f.distance_m
                              ELSE f.calories END) AS best
                 FROM public.fitness_days f
                 WHERE f.user_id = p_user
                   AND f.day >= (c.starts_at AT TIME ZONE 'UTC')::date
                   AND (f.day::timestamp AT TIME ZONE 'UTC') < c.ends_at
                 GROUP BY f.day) per_day), 0),
             v
      FROM public.competitions c
      JOIN public.memberships m ON m.competition_id = c.id AND m.user_id = p_user AND m.disqualified_at IS NULL
      WHERE c.starts_at <= now() AND c.ends_at > now() AND c.cancelled_at IS NULL
      ORDER BY c.id;
  END
  $$;

DROP FUNCTION public.my_competitions(uuid, integer);
CREATE FUNCTION public.my_competitions(p_user uuid, p_limit integer DEFAULT 100)
  RETURNS TABLE (
    id uuid, name text, metric text, starts_at timestamptz, ends_at timestamptz, prize_pool bigint,
    payout integer[], participants bigint, max_participants integer, cancelled_at timestamptz,
    joined_at timestamptz, disqualified_at timestamptz, disqualified_reason text,
    final_rank integer, final_display_rank bigint, final_score bigint, final_amount bigint
  )
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.participants::bigint,
           c.max_participants, c.cancelled_at, m.joined_at, m.disqualified_at, m.disqualified_reason,
           r.rank,
           CASE WHEN r.rank IS NULL THEN NULL
                ELSE 1 + (SELECT count(*) FROM public.final_results a
                          WHERE a.competition_id = r.competition_id AND a.score > r.score) END,
           r.score, r.prize
    FROM public.memberships m
    JOIN public.competitions c ON c.id = m.competition_id
    LEFT JOIN public.final_results r ON r.competition_id = m.competition_id AND r.user_id = m.user_id
    WHERE m.user_id = p_user
    ORDER BY m.joined_at DESC, c.id
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 100)
  $$;

REVOKE EXECUTE ON FUNCTION public.my_competitions(uuid, integer) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.join_competition(uuid, uuid) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.sync_fitness_days(uuid, text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.my_competitions(uuid, integer), public.join_competition(uuid, uuid),
  public.sync_fitness_days(uuid, text, jsonb) TO service_role;
