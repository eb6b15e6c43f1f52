-- A moved end's rescore goes on where it stopped.
--
-- A pending span (20261207160000_pending_rescore.sql) was rescored in one invocation of the Worker, two subrequests
-- (a page read and an object call) for every 200 members with a stored day in it. A Worker invocation may make at
-- most 50 subrequests on the free plan and 10 000 on the paid one (and has a CPU budget), so a competition of more
-- than about 4 800 such members (free) or 1 000 000 (paid) could never be rescored: every PATCH, cron run and operator
-- call failed at the same page, started again from the first member the next time, and the span stayed pending until
-- the standings became final.
--
-- Now a rescore reads at most RESCORE_PAGES_PER_CALL pages and then records how far it got: `rescore_after`, the last
-- member (in user-id order, the order the pages are read in) whose total was written. The next PATCH of the
-- competition, operator call or cron run goes on after it. The cursor holds only for the span it was recorded with
-- and for the end the members were rescored by: a move of the end resets it (the trigger below), and progress is
-- recorded only when the competition's settings_version, which every update of its settings raises, is the one the
-- rescore read the row at (a move made while a rescore ran, even inside its span, leaves that rescore's progress
-- unrecorded; the move's own request rescores the span again from the start).
ALTER TABLE public.competitions
  ADD COLUMN rescore_after uuid,
  ADD CONSTRAINT competitions_rescore_cursor CHECK (rescore_after IS NULL OR rescore_from IS NOT NULL);

-- As before, and a move starts the span's rescore from its first member again.
CREATE OR REPLACE FUNCTION public.remember_rescore() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    IF NEW.ends_at IS DISTINCT FROM OLD.ends_at AND NEW.score_source = 'fitness' AND NEW.starts_at <= now() THEN
      NEW.rescore_from := LEAST(OLD.rescore_from, OLD.ends_at, NEW.ends_at);
      NEW.rescore_to := GREATEST(OLD.rescore_to, OLD.ends_at, NEW.ends_at);
      NEW.rescore_after := NULL;
    END IF;
    RETURN NEW;
  END
  $$;

-- rescore_done cleared a covered span whatever happened meanwhile; rescore_progress below replaces it (a Worker of
-- the previous release that still calls it during a deploy logs the failure and leaves the span to the cron trigger).
DROP FUNCTION public.rescore_done(uuid, timestamptz, timestamptz);

-- Records a rescore of the members of [p_from, p_to] (RFC 3339) made with the competition's settings at
-- p_version: done (p_after NULL: the span is cleared) or done up to the member p_after (the span and the cursor are
-- kept, so the next rescore goes on from there). Recorded only when the settings are still at p_version and the span
-- covers the one pending, if any: a span another rescore widened meanwhile is that rescore's to record. A rescore of
-- a wider span than the one pending (the operator's, over the whole window) that stops before its end leaves its own
-- span pending. Whether it was recorded.
CREATE FUNCTION public.rescore_progress(p_competition uuid, p_from timestamptz, p_to timestamptz, p_version bigint,
                                        p_after uuid)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  BEGIN
    IF p_competition IS NULL OR p_from IS NULL OR p_to IS NULL OR p_version IS NULL OR p_from > p_to THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a competition, a span and a settings version are required';
    END IF;
    UPDATE public.competitions
      SET rescore_from = CASE WHEN p_after IS NULL THEN NULL ELSE p_from END,
          rescore_to = CASE WHEN p_after IS NULL THEN NULL ELSE p_to END,
          rescore_after = p_after
      WHERE id = p_competition AND settings_version = p_version
        AND (rescore_from IS NULL OR (rescore_from >= p_from AND rescore_to <= p_to));
    RETURN FOUND;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.rescore_progress(uuid, timestamptz, timestamptz, bigint, uuid)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_progress(uuid, timestamptz, timestamptz, bigint, uuid) TO service_role;

-- The view gains the cursor at its end (the PATCH and the operator's route read the row through it). Like the rest of
-- the row, users may read it: it names a member (never a disqualified one) with a stored day in the competition's
-- window, who has a score on its board, which every user may read, unless every such day counted 0.
CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at,
         c.score_source, c.scoring, c.clock, c.grace_hours, c.allow_manual,
         c.ends_at + make_interval(hours => c.grace_hours) AS final_at,
         c.settings_version, c.rescore_from, c.rescore_to, c.rescore_after
  FROM public.competitions c;
