-- Fitness days, the scores mirrored from the Competition Durable Objects, final results, and the RPC functions that
-- do multi-row work in one transaction. Policies use (select auth.uid()) so Postgres evaluates it once per query, and
-- every column a policy filters on leads an index.

ALTER TABLE public.competitions ALTER COLUMN id SET DEFAULT gen_random_uuid();

-- Each payout place is 1..10000 basis points and the places sum to at most 10000 (API.md).
CREATE FUNCTION public.payout_is_valid(payout integer[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(bool_and(p BETWEEN 1 AND 10000), true) AND coalesce(sum(p), 0) <= 10000 FROM unnest(payout) p $$;
ALTER TABLE public.competitions ADD CONSTRAINT competitions_payout_valid CHECK (public.payout_is_valid(payout));

-- Joining is refused once a competition has ended, whichever way the row is written.
DROP POLICY memberships_join_self ON public.memberships;
CREATE POLICY memberships_join_self ON public.memberships
  FOR INSERT TO authenticated WITH CHECK (
    user_id = (SELECT auth.uid())
    AND EXISTS (SELECT 1 FROM public.competitions c WHERE c.id = competition_id AND c.ends_at > now())
  );

-- Competitions with their participant count, read with the caller's rights (security_invoker, Postgres 15).
CREATE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         (SELECT count(*) FROM public.memberships m WHERE m.competition_id = c.id) AS participants
  FROM public.competitions c;

CREATE TABLE public.fitness_days (
  user_id        uuid NOT NULL,
  source         text NOT NULL CHECK (source IN ('healthkit', 'google_fit', 'manual')),
  day            date NOT NULL,
  steps          bigint NOT NULL DEFAULT 0 CHECK (steps BETWEEN 0 AND 100000),
  active_minutes bigint NOT NULL DEFAULT 0 CHECK (active_minutes BETWEEN 0 AND 1440),
  distance_m     bigint NOT NULL DEFAULT 0 CHECK (distance_m BETWEEN 0 AND 200000),
  calories       bigint NOT NULL DEFAULT 0 CHECK (calories BETWEEN 0 AND 20000),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, source, day)
);
ALTER TABLE public.fitness_days ENABLE ROW LEVEL SECURITY;
CREATE POLICY fitness_days_select_own ON public.fitness_days
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
CREATE POLICY fitness_days_insert_own ON public.fitness_days
  FOR INSERT TO authenticated WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY fitness_days_update_own ON public.fitness_days
  FOR UPDATE TO authenticated USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY fitness_days_delete_own ON public.fitness_days
  FOR DELETE TO authenticated USING (user_id = (SELECT auth.uid()));

-- The latest score per competition and user, written only from a Competition DO's outbox (service_role). `seq` is
-- the DO's update sequence, so a replayed or out-of-order outbox row never moves a score backwards.
CREATE TABLE public.scores (
  competition_id uuid NOT NULL REFERENCES public.competitions (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL,
  score          bigint NOT NULL CHECK (score BETWEEN 0 AND 9007199254740991),
  seq            bigint NOT NULL CHECK (seq > 0),
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (competition_id, user_id)
);
CREATE INDEX scores_user_id ON public.scores (user_id);
ALTER TABLE public.scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY scores_read ON public.scores FOR SELECT TO authenticated USING (true);

CREATE TABLE public.final_results (
  competition_id uuid NOT NULL REFERENCES public.competitions (id) ON DELETE CASCADE,
  rank           integer NOT NULL CHECK (rank > 0),
  user_id        uuid NOT NULL,
  score          bigint NOT NULL CHECK (score >= 0),
  prize          bigint NOT NULL DEFAULT 0 CHECK (prize >= 0),
  PRIMARY KEY (competition_id, rank),
  UNIQUE (competition_id, user_id)
);
CREATE INDEX final_results_user_id ON public.final_results (user_id);
ALTER TABLE public.final_results ENABLE ROW LEVEL SECURITY;
CREATE POLICY final_results_read ON public.final_results FOR SELECT TO authenticated USING (true);

-- The caller's profile, created with `default_name` on first use.
CREATE FUNCTION public.ensure_profile(default_name text) RETURNS public.profiles
  LANGUAGE sql VOLATILE
  AS $$
    INSERT INTO public.profiles (user_id, display_name) VALUES (auth.uid(), default_name)
      ON CONFLICT (user_id) DO NOTHING;
    SELECT * FROM public.profiles WHERE user_id = auth.uid();
  $$;

-- Joins the caller to a competition; idempotent (the first joined_at stays). Custom SQLSTATEs PTnnn become HTTP
-- status nnn in PostgREST.
CREATE FUNCTION public.join_competition(competition uuid) RETURNS public.memberships
  LANGUAGE plpgsql VOLATILE
  AS $$
  DECLARE
    ends timestamptz;
    joined public.memberships;
  BEGIN
    SELECT ends_at INTO ends FROM public.competitions WHERE id = competition;
    IF NOT FOUND THEN
      RAISE SQLSTATE 'PT404' USING MESSAGE = 'competition not found';
    END IF;
    SELECT * INTO joined FROM public.memberships WHERE competition_id = competition AND user_id = auth.uid();
    IF FOUND THEN
      RETURN joined;
    END IF;
    IF ends <= now() THEN
      RAISE SQLSTATE 'PT409' USING MESSAGE = 'competition has finished';
    END IF;
    INSERT INTO public.memberships (competition_id, user_id) VALUES (competition, auth.uid())
      ON CONFLICT DO NOTHING;
    SELECT * INTO joined FROM public.memberships WHERE competition_id = competition AND user_id = auth.uid();
    RETURN joined;
  END
  $$;

-- Upserts the caller's fitness days from one source and returns the rescored total of every active competition the
-- caller joined: per day the largest value any source reported for the competition's metric, summed over the days
-- inside the competition's window (UTC dates). One transaction: a bad row writes nothing.
CREATE FUNCTION public.sync_fitness_days(source text, days jsonb)
  RETURNS TABLE (competition_id uuid, score bigint)
  LANGUAGE plpgsql VOLATILE
  AS $$
  #variable_conflict use_column
  BEGIN
    IF auth.uid() IS NULL THEN
      RAISE SQLSTATE 'PT401' USING MESSAGE = 'a user token is required';
    END IF;
    INSERT INTO public.fitness_days AS f (user_id, source, day, steps, active_minutes, distance_m, calories)
      SELECT auth.uid(), $1, d.day, coalesce(d.steps, 0), coalesce(d.active_minutes, 0),
             coalesce(d.distance_m, 0), coalesce(d.calories, 0)
      FROM jsonb_to_recordset(days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint, calories bigint)
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
                 WHERE f.user_id = auth.uid()
                   AND f.day >= (c.starts_at AT TIME ZONE 'UTC')::date
                   AND f.day <= (c.ends_at AT TIME ZONE 'UTC')::date
                 GROUP BY f.day) per_day), 0)
      FROM public.competitions c
      JOIN public.memberships m ON m.competition_id = c.id AND m.user_id = auth.uid()
      WHERE c.starts_at <= now() AND c.ends_at > now()
      ORDER BY c.id;
  END
  $$;

-- Applies a batch of Competition DO outbox rows ([{competition_id,user_id,score,seq,updated_at}]) idempotently: a row
-- only replaces an older seq. Returns how many rows changed. service_role only.
CREATE FUNCTION public.apply_score_outbox(entries jsonb) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  AS $$
  DECLARE
    changed integer;
  BEGIN
    INSERT INTO public.scores AS s (competition_id, user_id, score, seq, updated_at)
      -- A batch may hold several changes of one user; only the latest can be applied (a row is upserted once).
      SELECT DISTINCT ON (e.competition_id, e.user_id) e.competition_id, e.user_id, e.score, e.seq, e.updated_at
      FROM jsonb_to_recordset(entries) AS e(competition_id uuid, user_id uuid, score bigint, seq bigint, updated_at timestamptz)
      ORDER BY e.competition_id, e.user_id, e.seq DESC
      ON CONFLICT (competition_id, user_id) DO UPDATE
        SET score = EXCLUDED.score, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
        WHERE s.seq < EXCLUDED.seq;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.apply_score_outbox(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.sync_fitness_days(text, jsonb) FROM PUBLIC, anon;
REVOKE EXECUTE ON FUNCTION public.join_competition(uuid) FROM PUBLIC, anon;
REVOKE EXECUTE ON FUNCTION public.ensure_profile(text) FROM PUBLIC, anon;
