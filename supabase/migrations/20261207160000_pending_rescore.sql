-- A moved end's rescoring is remembered on the competition row until it is done.
--
-- Moving the end of a started fitness competition changes which stored days count near the old and the new end, so
-- the Worker rescores the members with days between them (`rescore_members`). That step came after the update: when
-- it failed (the database API or the object slow for a moment, the isolate gone) the end was stored, the boards kept
-- the totals of the old end, and a retry of the same PATCH found the end already moved and rescored nobody. Only an
-- operator who knew to call the rescore route could repair it, and nothing told them to.
--
-- Now the update itself records the span to rescore, under the row's lock, so concurrent moves of the end add up
-- (the span grows to cover every move not rescored yet). The Worker rescores the span the row holds after its update
-- (a retried PATCH, which changes nothing, still finds it), and clears it with `rescore_done` once every page is
-- written; the cron trigger finishes any span a request left behind (`pending_rescores`).
ALTER TABLE public.competitions
  ADD COLUMN rescore_from timestamptz,
  ADD COLUMN rescore_to timestamptz,
  ADD CONSTRAINT competitions_rescore_span CHECK ((rescore_from IS NULL) = (rescore_to IS NULL)
                                                 AND (rescore_from IS NULL OR rescore_from <= rescore_to));

-- A fitness competition that has started (before its start no member has a score the end could change) whose end
-- moves: the span between the old and the new end joins the one still pending (LEAST and GREATEST skip NULLs).
CREATE FUNCTION public.remember_rescore() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    IF NEW.ends_at IS DISTINCT FROM OLD.ends_at AND NEW.score_source = 'fitness' AND NEW.starts_at <= now() THEN
      NEW.rescore_from := LEAST(OLD.rescore_from, OLD.ends_at, NEW.ends_at);
      NEW.rescore_to := GREATEST(OLD.rescore_to, OLD.ends_at, NEW.ends_at);
    END IF;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.remember_rescore() FROM PUBLIC, anon, authenticated;

CREATE TRIGGER competitions_remember_rescore
  BEFORE UPDATE OF ends_at ON public.competitions
  FOR EACH ROW EXECUTE FUNCTION public.remember_rescore();

-- Clears the pending span when [p_from, p_to] covered it: a span another move widened meanwhile stays for that
-- move's own rescore (or the cron trigger's). Whether it was cleared.
CREATE FUNCTION public.rescore_done(p_competition uuid, p_from timestamptz, p_to timestamptz)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  BEGIN
    UPDATE public.competitions SET rescore_from = NULL, rescore_to = NULL
      WHERE id = p_competition AND rescore_from >= p_from AND rescore_to <= p_to;
    RETURN FOUND;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.rescore_done(uuid, timestamptz, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_done(uuid, timestamptz, timestamptz) TO service_role;

-- Competitions with a span still to rescore whose standings can still move (not cancelled, before the end plus the
-- grace period: the final standings are checked against the stored days anyway), in random order (a span whose
-- rescore keeps failing cannot hold back the others); at most p_limit (1..100).
CREATE FUNCTION public.pending_rescores(p_limit integer DEFAULT 10)
  RETURNS SETOF public.competitions
  LANGUAGE sql VOLATILE SET search_path = ''
  AS $$
    SELECT c.* FROM public.competitions c
    WHERE c.rescore_from IS NOT NULL AND c.cancelled_at IS NULL
      AND c.ends_at + make_interval(hours => c.grace_hours) > now()
    ORDER BY random()
    LIMIT least(greatest(coalesce(p_limit, 10), 1), 100)
  $$;
REVOKE EXECUTE ON FUNCTION public.pending_rescores(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.pending_rescores(integer) TO service_role;

-- The cron trigger's question reads only the few rows with a span.
CREATE INDEX competitions_rescore_pending ON public.competitions (rescore_from) WHERE rescore_from IS NOT NULL;

-- The Worker reads a competition through the view (an administrator's PATCH among them: a retry that changes nothing
-- must still see the span its first attempt left), so the view gains the two columns at its end.
CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at,
         c.score_source, c.scoring, c.clock, c.grace_hours, c.allow_manual,
         c.ends_at + make_interval(hours => c.grace_hours) AS final_at,
         c.settings_version, c.rescore_from, c.rescore_to
  FROM public.competitions c;
