-- Capacity and disqualification (API.md, additions of 2026-12-01):
--   * `competitions.max_participants` (1..1 000 000, null: no limit); a join beyond it is refused (PT409), safely
--     under concurrent joins: the join locks the competition row, so joins of one competition take turns.
--   * a disqualified member keeps their membership (with who-knows-why: when and the reason, for the audit trail and
--     for "my competitions"), cannot rejoin (PT403) and is left out of fitness rescoring.

ALTER TABLE public.competitions
  ADD COLUMN max_participants integer CHECK (max_participants BETWEEN 1 AND 1000000);

ALTER TABLE public.memberships
  ADD COLUMN disqualified_at timestamptz,
  ADD COLUMN disqualified_reason text
    CHECK (disqualified_reason IS NULL OR char_length(disqualified_reason) BETWEEN 1 AND 200),
  ADD CONSTRAINT memberships_disqualified_with_reason
    CHECK ((disqualified_at IS NULL) = (disqualified_reason IS NULL));

CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants
  FROM public.competitions c;

-- Joins a user to a competition; idempotent (the first joined_at stays). Refused: an unknown competition (PT404), a
-- disqualified member (PT403), a finished (PT409 'competition has finished') or full (PT409 'competition is full')
-- competition. The competition row is locked first, so concurrent joins cannot overfill it.
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

-- Marks a member disqualified (idempotent: a second call keeps the first time and reason). PT404 for a user who
-- is not a member.
CREATE FUNCTION public.disqualify_member(competition uuid, p_user uuid, p_reason text) RETURNS public.memberships
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    member public.memberships;
  BEGIN
    UPDATE public.memberships m
      SET disqualified_at = coalesce(m.disqualified_at, now()),
          disqualified_reason = coalesce(m.disqualified_reason, p_reason)
      WHERE m.competition_id = competition AND m.user_id = p_user
      RETURNING * INTO member;
    IF NOT FOUND THEN
      RAISE SQLSTATE 'PT404' USING MESSAGE = 'not a member of this competition';
    END IF;
    RETURN member;
  END
  $$;

-- Fitness rescoring leaves disqualified members out (their boards would refuse the total anyway).
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
      WHERE c.starts_at <= now() AND c.ends_at > now()
      ORDER BY c.id;
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.disqualify_member(uuid, uuid, text) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.join_competition(uuid, uuid) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.sync_fitness_days(uuid, text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.disqualify_member(uuid, uuid, text), public.join_competition(uuid, uuid),
  public.sync_fitness_days(uuid, text, jsonb) TO service_role;
