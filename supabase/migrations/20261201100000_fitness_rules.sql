-- The fitness rules of the additions of 2026-12-01 (API.md, "Competitions: how a score is made", "Fitness sync,
-- extended", "Reviews and disqualification"). The database stores what the rules need; the Worker applies them (in
-- plain Rust, src/fitness_rules/): which local dates count under a competition's clock, the manual cap, the largest
-- value per day across sources, held days and the scoring mode. One round trip of a sync or a hold decision stores
-- the change and returns everything the rescoring needs (rescore_inputs).

-- ---------------------------------------------------------------------------------------------------------------
-- How a competition makes a score.
CREATE FUNCTION public.scoring_is_valid(scoring jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE SET search_path = ''
  AS $$
    SELECT jsonb_typeof(scoring) = 'object' AND CASE scoring->>'mode'
      WHEN 'total' THEN scoring - 'mode' = '{}'::jsonb
      WHEN 'best_day' THEN scoring - 'mode' = '{}'::jsonb
      WHEN 'daily_capped' THEN scoring - 'mode' - 'cap' = '{}'::jsonb AND jsonb_typeof(scoring->'cap') = 'number'
        AND (scoring->>'cap')::numeric >= 1 AND (scoring->>'cap')::numeric = trunc((scoring->>'cap')::numeric)
      WHEN 'goal_days' THEN scoring - 'mode' - 'goal' = '{}'::jsonb AND jsonb_typeof(scoring->'goal') = 'number'
        AND (scoring->>'goal')::numeric >= 1 AND (scoring->>'goal')::numeric = trunc((scoring->>'goal')::numeric)
      ELSE false END
  $$;
REVOKE EXECUTE ON FUNCTION public.scoring_is_valid(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.scoring_is_valid(jsonb) TO service_role;

ALTER TABLE public.competitions
  ADD COLUMN score_source text NOT NULL DEFAULT 'fitness' CHECK (score_source IN ('fitness', 'client')),
  ADD COLUMN scoring jsonb NOT NULL DEFAULT '{"mode":"total"}' CHECK (public.scoring_is_valid(scoring)),
  -- 'participant' or an IANA zone name (the Worker checks names against the time-zone database).
  ADD COLUMN clock text NOT NULL DEFAULT 'participant' CHECK (char_length(clock) BETWEEN 1 AND 64),
  ADD COLUMN grace_hours integer CHECK (grace_hours BETWEEN 0 AND 72),
  ADD COLUMN allow_manual boolean NOT NULL DEFAULT false;
-- Rows from before this migration were ranked by posted scores.
UPDATE public.competitions SET score_source = 'client', grace_hours = 0;
ALTER TABLE public.competitions
  ALTER COLUMN grace_hours SET NOT NULL,
  ADD CONSTRAINT competitions_client_without_grace CHECK (score_source = 'fitness' OR grace_hours = 0);

-- grace_hours defaults by kind: 24 for fitness, 0 for client competitions (API.md).
CREATE FUNCTION public.competition_defaults() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    IF NEW.grace_hours IS NULL THEN
      NEW.grace_hours := CASE WHEN NEW.score_source = 'client' THEN 0 ELSE 24 END;
    END IF;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.competition_defaults() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER competitions_defaults BEFORE INSERT ON public.competitions
  FOR EACH ROW EXECUTE FUNCTION public.competition_defaults();

-- final_at: when the standings become final (the end of the grace period), so lists can ask for what is still live.
CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at,
         c.score_source, c.scoring, c.clock, c.grace_hours, c.allow_manual,
         c.ends_at + make_interval(hours => c.grace_hours) AS final_at
  FROM public.competitions c;

-- ---------------------------------------------------------------------------------------------------------------
-- A member's own calendar (written only through the Worker: the grant of 20261201090000 stays display_name only).
ALTER TABLE public.profiles ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
  CHECK (char_length(time_zone) BETWEEN 1 AND 64);

-- Days: more sources, typed-in samples, and which metrics of a sample were above the review threshold (the
-- thresholds live with the other rules in the Worker; the column records its finding with the sample).
ALTER TABLE public.fitness_days DROP CONSTRAINT fitness_days_source_check;
ALTER TABLE public.fitness_days
  ADD CONSTRAINT fitness_days_source_check
    CHECK (source IN ('healthkit', 'health_connect', 'google_fit', 'garmin', 'fitbit', 'manual')),
  ADD COLUMN user_entered boolean NOT NULL DEFAULT false,
  ADD COLUMN held_metrics text[] NOT NULL DEFAULT '{}'
    CHECK (held_metrics <@ ARRAY['steps', 'active_minutes', 'distance_m', 'calories']);

-- A held user-day and its review decision: one decision covers every source and metric held that day.
CREATE TABLE public.fitness_holds (
  user_id    uuid NOT NULL REFERENCES public.profiles (user_id) ON DELETE CASCADE,
  day        date NOT NULL,
  status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  PRIMARY KEY (user_id, day)
);
CREATE INDEX fitness_holds_status_day ON public.fitness_holds (status, day, user_id);
ALTER TABLE public.fitness_holds ENABLE ROW LEVEL SECURITY;
CREATE POLICY fitness_holds_select_own ON public.fitness_holds
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
REVOKE ALL ON public.fitness_holds FROM anon, authenticated;
GRANT SELECT ON public.fitness_holds TO authenticated;
GRANT ALL ON public.fitness_holds TO service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- What rescoring a user needs, as one JSON document: the user's days version and zone, every fitness competition
-- the user is a (not disqualified) member of that still takes syncs (started, not cancelled, before the end of its
-- grace), the user's stored days that any clock could count for them (one UTC day either side of each window), and
-- the decisions on their held days.
CREATE FUNCTION public.rescore_inputs(p_user uuid, p_version bigint) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    WITH comps AS (
      SELECT c.* FROM public.competitions c
      JOIN public.memberships m ON m.competition_id = c.id AND m.user_id = p_user AND m.disqualified_at IS NULL
      WHERE c.score_source = 'fitness' AND c.cancelled_at IS NULL AND c.starts_at <= now()
        AND now() < c.ends_at + make_interval(hours => c.grace_hours)
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

-- Stores a user's samples from one source and returns rescore_inputs plus the indexes of samples dated after the
-- user's local today (not stored). p_days: [{index, day, steps?, active_minutes?, distance_m?, calories?,
-- user_entered, held_metrics}]. A p_time_zone sets the profile's zone first (and judges this request's dates). A
-- held sample whose stored values change (or that is new) reopens its day's review; a day left with no held sample
-- has no hold. The version row is locked first, so concurrent syncs of one user are serialised and their versions
-- order their totals. One transaction: a bad row writes nothing.
DROP FUNCTION public.sync_fitness_days(uuid, text, jsonb);
CREATE FUNCTION public.sync_fitness_days(p_user uuid, p_source text, p_days jsonb, p_time_zone text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    v bigint;
    zone text;
    today date;
    future jsonb;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    PERFORM public.ensure_profile(p_user);
    UPDATE public.profiles p
      SET days_version = p.days_version + 1, time_zone = coalesce(p_time_zone, p.time_zone)
      WHERE p.user_id = p_user
      RETURNING p.days_version, p.time_zone INTO v, zone;
    today := (now() AT TIME ZONE zone)::date;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_days) AS d(day date) WHERE d.day IS NULL) THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'a day is missing';
    END IF;
    SELECT coalesce(jsonb_agg(d.index ORDER BY d.index), '[]'::jsonb) INTO future
      FROM jsonb_to_recordset(p_days) AS d(index integer, day date) WHERE d.day > today;

    -- Reopen the review of held days whose stored sample changes (before the upsert overwrites it).
    INSERT INTO public.fitness_holds AS h (user_id, day)
      SELECT DISTINCT p_user, d.day
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      LEFT JOIN public.fitness_days f ON f.user_id = p_user AND f.source = p_source AND f.day = d.day
      WHERE d.day <= today AND cardinality(d.held_metrics) > 0
        AND (f.day IS NULL
             OR (f.steps, f.active_minutes, f.distance_m, f.calories, f.user_entered)
                IS DISTINCT FROM (coalesce(d.steps, 0), coalesce(d.active_minutes, 0), coalesce(d.distance_m, 0),
                                  coalesce(d.calories, 0), coalesce(d.user_entered, false)))
      ON CONFLICT (user_id, day) DO UPDATE SET status = 'pending', decided_at = NULL;

    INSERT INTO public.fitness_days AS f
        (user_id, source, day, steps, active_minutes, distance_m, calories, user_entered, held_metrics)
      SELECT p_user, p_source, d.day, coalesce(d.steps, 0), coalesce(d.active_minutes, 0),
             coalesce(d.distance_m, 0), coalesce(d.calories, 0), coalesce(d.user_entered, false),
             coalesce(d.held_metrics, '{}')
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      WHERE d.day <= today
      ON CONFLICT (user_id, source, day) DO UPDATE
        SET steps = EXCLUDED.steps, active_minutes = EXCLUDED.active_minutes, distance_m = EXCLUDED.distance_m,
            calories = EXCLUDED.calories, user_entered = EXCLUDED.user_entered,
            held_metrics = EXCLUDED.held_metrics, updated_at = now();

    DELETE FROM public.fitness_holds h
      WHERE h.user_id = p_user
        AND h.day IN (SELECT d.day FROM jsonb_to_recordset(p_days) AS d(day date))
        AND NOT EXISTS (SELECT 1 FROM public.fitness_days f
                        WHERE f.user_id = p_user AND f.day = h.day AND cardinality(f.held_metrics) > 0);

    RETURN public.rescore_inputs(p_user, v) || jsonb_build_object('future', future);
  END
  $$;

-- One row per held sample (a held user-day's source and metric), with its entry as the review routes show it. Read by
-- list_holds and decide_hold; with the caller's rights, and no API role may read it.
CREATE VIEW public.held_samples WITH (security_invoker = true) AS
  SELECT h.user_id, h.day, f.source, m.metric, h.status,
         jsonb_build_object(
           'user_id', h.user_id, 'date', h.day, 'source', f.source, 'metric', m.metric,
           'value', CASE m.metric WHEN 'steps' THEN f.steps WHEN 'active_minutes' THEN f.active_minutes
                                  WHEN 'distance_m' THEN f.distance_m ELSE f.calories END,
           'status', h.status, 'user_entered', f.user_entered) AS entry
  FROM public.fitness_holds h
  JOIN public.fitness_days f ON f.user_id = h.user_id AND f.day = h.day
  CROSS JOIN LATERAL unnest(f.held_metrics) AS m(metric);
REVOKE ALL ON public.held_samples FROM anon, authenticated;
GRANT SELECT ON public.held_samples TO service_role;

-- The held samples of the holds in a status (every status when NULL), by date then user: one entry per held source
-- and metric, with the day's decision. At most p_limit (1..500) entries.
CREATE FUNCTION public.list_holds(p_status text DEFAULT NULL, p_limit integer DEFAULT 500) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT coalesce(jsonb_agg(s.entry ORDER BY s.day, s.user_id, s.source, s.metric), '[]'::jsonb)
    FROM (
      SELECT * FROM public.held_samples h
      WHERE p_status IS NULL OR h.status = p_status
      ORDER BY h.day, h.user_id, h.source, h.metric
      LIMIT least(greatest(coalesce(p_limit, 500), 1), 500)
    ) s
  $$;

-- Records an administrator's decision on a user's held day. PT404 when the day has no hold. The same decision
-- again changes nothing ("changed": false); a new one bumps the user's days version and returns rescore_inputs, so
-- every affected competition is rescored. Returns {"holds": [the day's entries], "changed", "rescore"}.
CREATE FUNCTION public.decide_hold(p_user uuid, p_day date, p_decision text) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    current text;
    v bigint;
    inputs jsonb := NULL;
  BEGIN
    IF p_decision NOT IN ('approved', 'rejected') THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'decision must be approved or rejected';
    END IF;
    -- Lock the user's version row first, as syncs do, so a decision and a sync are ordered.
    PERFORM 1 FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    SELECT h.status INTO current FROM public.fitness_holds h WHERE h.user_id = p_user AND h.day = p_day FOR UPDATE;
    IF NOT FOUND THEN
      RAISE SQLSTATE 'PT404' USING MESSAGE = 'no hold for this user and date';
    END IF;
    IF current IS DISTINCT FROM p_decision THEN
      UPDATE public.fitness_holds h SET status = p_decision, decided_at = now()
        WHERE h.user_id = p_user AND h.day = p_day;
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = p_user
        RETURNING p.days_version INTO v;
      inputs := public.rescore_inputs(p_user, v);
    END IF;
    RETURN jsonb_build_object(
      'holds', coalesce((
        SELECT jsonb_agg(s.entry ORDER BY s.source, s.metric) FROM public.held_samples s
        WHERE s.user_id = p_user AND s.day = p_day), '[]'::jsonb),
      'changed', current IS DISTINCT FROM p_decision,
      'rescore', inputs);
  END
  $$;

-- "My competitions" now carries the competition's rules too (the row the competition routes read).
DROP FUNCTION public.my_competitions(uuid, integer);
CREATE FUNCTION public.my_competitions(p_user uuid, p_limit integer DEFAULT 100)
  RETURNS TABLE (
    id uuid, name text, metric text, starts_at timestamptz, ends_at timestamptz, prize_pool bigint,
    payout integer[], participants bigint, max_participants integer, cancelled_at timestamptz,
    score_source text, scoring jsonb, clock text, grace_hours integer, allow_manual boolean,
    joined_at timestamptz, disqualified_at timestamptz, disqualified_reason text,
    final_rank integer, final_display_rank bigint, final_score bigint, final_amount bigint
  )
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.participants::bigint,
           c.max_participants, c.cancelled_at, c.score_source, c.scoring, c.clock, c.grace_hours, c.allow_manual,
           m.joined_at, m.disqualified_at, m.disqualified_reason,
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

REVOKE EXECUTE ON FUNCTION public.rescore_inputs(uuid, bigint) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.sync_fitness_days(uuid, text, jsonb, text) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.list_holds(text, integer) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.decide_hold(uuid, date, text) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.my_competitions(uuid, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_inputs(uuid, bigint), public.sync_fitness_days(uuid, text, jsonb, text),
  public.list_holds(text, integer), public.decide_hold(uuid, date, text), public.my_competitions(uuid, integer)
  TO service_role;
