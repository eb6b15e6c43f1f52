-- Integrity: the database is the system of record, never a second API (DESIGN.md, "Fitness scoring and trust").
--
-- Before this migration a user token could write its own fitness days (any date), call sync_fitness_days directly,
-- read everyone's memberships and scores, forge joined_at, and write any avatar_url. From here on:
--   * users read only their own profile, memberships, days, scores and final results (competitions stay public);
--   * the only column a user may write directly is profiles.display_name (what PATCH /api/v1/me allows), under the
--     same checks the Worker makes, as CHECK constraints;
--   * days, memberships and profiles are written by the Worker with the service key on behalf of the verified user,
--     through functions only service_role may execute;
--   * every user row hangs off auth.users with ON DELETE CASCADE, so deleting the auth user deletes them;
--   * every function has a fixed, empty search_path.
-- And what the additions of 2026-12-01 keep in the database: a competition's capacity (max_participants, enforced by
-- the join under a row lock) and cancellation, a member's disqualification (with when and why), and "my competitions".

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges: nothing is writable by the API roles unless granted below. Supabase's default privileges grant ALL on
-- new tables and EXECUTE on new functions to anon and authenticated; take that back for what later migrations add.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon, authenticated;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC, anon, authenticated;

GRANT SELECT ON public.competitions, public.competition_summaries TO anon, authenticated;
GRANT SELECT ON public.profiles, public.memberships, public.fitness_days, public.scores, public.final_results
  TO authenticated;
GRANT UPDATE (display_name) ON public.profiles TO authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- Policies: own rows only.
DROP POLICY profiles_insert_own ON public.profiles;
DROP POLICY memberships_read ON public.memberships;
DROP POLICY memberships_join_self ON public.memberships;
CREATE POLICY memberships_select_own ON public.memberships
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
DROP POLICY fitness_days_insert_own ON public.fitness_days;
DROP POLICY fitness_days_update_own ON public.fitness_days;
DROP POLICY fitness_days_delete_own ON public.fitness_days;
DROP POLICY scores_read ON public.scores;
CREATE POLICY scores_select_own ON public.scores
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
DROP POLICY final_results_read ON public.final_results;
CREATE POLICY final_results_select_own ON public.final_results
  FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));

-- ---------------------------------------------------------------------------------------------------------------
-- Profiles: the checks of PATCH /api/v1/me and of the avatar route, whoever writes. NOT VALID keeps a migration of a
-- database with older rows possible; every new or changed row is checked.
ALTER TABLE public.profiles
  ADD CONSTRAINT profiles_display_name_printable CHECK (display_name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID,
  ADD CONSTRAINT profiles_avatar_url_own_route CHECK (
    avatar_url IS NULL
    OR avatar_url ~ '^https?://[A-Za-z0-9.:\[\]-]+/api/v1/avatars/[0-9a-f]{64}\.(png|jpg|webp)$'
  ) NOT VALID;
-- Grows with every fitness sync of the user (in the sync's transaction), so a Competition object can tell an older
-- total from a newer one whatever order concurrent syncs reach it in.
ALTER TABLE public.profiles ADD COLUMN days_version bigint NOT NULL DEFAULT 0 CHECK (days_version >= 0);

-- Every user row goes with its auth user. NOT VALID: enforced (and cascading) for every row from now on, without
-- refusing the migration over rows written before it.
ALTER TABLE public.profiles
  ADD CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE public.memberships
  ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.profiles (user_id)
    ON DELETE CASCADE NOT VALID;
ALTER TABLE public.fitness_days
  ADD CONSTRAINT fitness_days_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.profiles (user_id)
    ON DELETE CASCADE NOT VALID;
ALTER TABLE public.scores
  ADD CONSTRAINT scores_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.profiles (user_id)
    ON DELETE CASCADE NOT VALID;
CREATE INDEX IF NOT EXISTS fitness_days_user_day ON public.fitness_days (user_id, day);

-- ---------------------------------------------------------------------------------------------------------------
-- Capacity, cancellation and disqualification. A disqualified member keeps their membership (when and why, for the
-- audit trail and "my competitions"), cannot rejoin and is left out of fitness rescoring.
ALTER TABLE public.competitions
  ADD COLUMN max_participants integer CHECK (max_participants BETWEEN 1 AND 1000000),
  ADD COLUMN cancelled_at timestamptz;
ALTER TABLE public.memberships
  ADD COLUMN disqualified_at timestamptz,
  ADD COLUMN disqualified_reason text
    CHECK (disqualified_reason IS NULL OR char_length(disqualified_reason) BETWEEN 1 AND 200),
  ADD CONSTRAINT memberships_disqualified_with_reason
    CHECK ((disqualified_at IS NULL) = (disqualified_reason IS NULL));

-- ---------------------------------------------------------------------------------------------------------------
-- Participant counts are public (the contract shows them) while memberships are not: a counter kept by a trigger.
ALTER TABLE public.competitions ADD COLUMN participants integer NOT NULL DEFAULT 0 CHECK (participants >= 0);
UPDATE public.competitions c
  SET participants = (SELECT count(*) FROM public.memberships m WHERE m.competition_id = c.id);

CREATE FUNCTION public.count_participants() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      UPDATE public.competitions SET participants = participants + 1 WHERE id = NEW.competition_id;
    ELSE
      UPDATE public.competitions SET participants = greatest(participants - 1, 0) WHERE id = OLD.competition_id;
    END IF;
    RETURN NULL;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.count_participants() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER memberships_count AFTER INSERT OR DELETE ON public.memberships
  FOR EACH ROW EXECUTE FUNCTION public.count_participants();

CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at
  FROM public.competitions c;

-- ---------------------------------------------------------------------------------------------------------------
-- Functions: fixed search_path; the ones that write take the user id from the Worker and are service_role only.
ALTER FUNCTION public.payout_is_valid(integer[]) SET search_path = '';
ALTER FUNCTION public.apply_score_outbox(jsonb) SET search_path = '';
ALTER FUNCTION public.record_final_results(uuid, jsonb) SET search_path = '';

DROP FUNCTION public.ensure_profile(text);
DROP FUNCTION public.join_competition(uuid);
DROP FUNCTION public.sync_fitness_days(text, jsonb);

-- The user's profile row, created with the contract's default name on first use (the caller is the Worker).
CREATE FUNCTION public.ensure_profile(p_user uuid) RETURNS public.profiles
  LANGUAGE sql VOLATILE SET search_path = ''
  AS $$
    INSERT INTO public.profiles (user_id, display_name) VALUES (p_user, 'player-' || left(p_user::text, 8))
      ON CONFLICT (user_id) DO NOTHING;
    SELECT * FROM public.profiles WHERE user_id = p_user;
  $$;

-- Joins a user to a competition; idempotent (the first joined_at stays, and the database sets it). Refused: an
-- unknown competition (PT404), a disqualified member (PT403), a cancelled, finished or full competition (PT409 with
-- 'competition was cancelled' / 'has finished' / 'is full'). Custom SQLSTATEs PTnnn become HTTP status nnn in
-- PostgREST. The competition row is locked first, so concurrent joins cannot overfill it.
CREATE FUNCTION public.join_competition(competition uuid, p_user uuid) RETURNS public.memberships
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

-- Upserts a user's fitness days from one source and returns, for every active competition the user joined (not
-- cancelled, not disqualified), the rescored total (per day the largest value any source reported for the
-- competition's metric, summed over the days whose UTC midnight-to-midnight interval overlaps [starts_at, ends_at))
-- and the user's new days_version. Days after tomorrow (UTC) are refused: no clock on Earth has reached them. One
-- transaction: a bad row writes nothing. The version row is locked first, so concurrent syncs of one user are
-- serialised and their versions order their totals.
CREATE FUNCTION public.sync_fitness_days(p_user uuid, p_source text, p_days jsonb)
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

-- "My competitions": every competition a user joined, newest join first, with their membership status and, where
-- the standings are final and delivered, their final rank, display rank, score and amount — so the Worker asks a
-- competition's object only for competitions still running.
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

-- Outbox rows of a user who has since been deleted are skipped (their profile is gone), so one deletion cannot block
-- a competition's delivery.
CREATE OR REPLACE FUNCTION public.apply_score_outbox(entries jsonb) RETURNS integer
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    changed integer;
  BEGIN
    INSERT INTO public.scores AS s (competition_id, user_id, score, seq, updated_at)
      -- A batch may hold several changes of one user; only the latest can be applied (a row is upserted once).
      SELECT DISTINCT ON (e.competition_id, e.user_id) e.competition_id, e.user_id, e.score, e.seq, e.updated_at
      FROM jsonb_to_recordset(entries) AS e(competition_id uuid, user_id uuid, score bigint, seq bigint, updated_at timestamptz)
      WHERE EXISTS (SELECT 1 FROM public.profiles p WHERE p.user_id = e.user_id)
        AND EXISTS (SELECT 1 FROM public.competitions c WHERE c.id = e.competition_id)
      ORDER BY e.competition_id, e.user_id, e.seq DESC
      ON CONFLICT (competition_id, user_id) DO UPDATE
        SET score = EXCLUDED.score, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
        WHERE s.seq < EXCLUDED.seq;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.ensure_profile(uuid) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.join_competition(uuid, uuid) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.sync_fitness_days(uuid, text, jsonb) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.apply_score_outbox(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.disqualify_member(uuid, uuid, text) FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.my_competitions(uuid, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.ensure_profile(uuid), public.join_competition(uuid, uuid),
  public.sync_fitness_days(uuid, text, jsonb), public.apply_score_outbox(jsonb),
  public.record_final_results(uuid, jsonb), public.disqualify_member(uuid, uuid, text),
  public.my_competitions(uuid, integer) TO service_role;
-- payout_is_valid backs a CHECK constraint; the API roles have no reason to call it.
GRANT EXECUTE ON FUNCTION public.payout_is_valid(integer[]) TO service_role;
