-- A competition's settings carry a version, so its object never goes back to older ones.
--
-- The Worker tells a competition's object its settings on a join (from the join's own read of the row), when an
-- object does not know its competition yet (a fresh read), and after an administrator's PATCH (the row it wrote).
-- Those calls travel concurrently: a join that read the row before a PATCH committed could reach the object after
-- the PATCH's settings, and the object took them — it kept paying by the old prize pool and payout, and ending at the
-- old time, while the database and the competition route said otherwise (reproduced with 24 joins racing one PATCH:
-- 13 of 15 competitions kept the old prize pool).
--
-- Every update that sets a competition's settings now increments settings_version (under the row's lock, so in
-- commit order; the participant count and the cancellation do not move it). An administrator's PATCH tells the
-- object first (it knows whether the standings are final) with the version its update will give the row, one more
-- than the row it read; the object stores the version with the settings and ignores settings older than the ones it
-- has, so a join's settings read before the PATCH no longer replace the PATCH's.
-- From 1: the objects read 0 as settings from a Worker before versions, which they always take.
ALTER TABLE public.competitions ADD COLUMN settings_version bigint NOT NULL DEFAULT 1 CHECK (settings_version >= 1);

CREATE FUNCTION public.count_settings_version() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    NEW.settings_version := OLD.settings_version + 1;
    RETURN NEW;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.count_settings_version() FROM PUBLIC, anon, authenticated;

-- Fires when an UPDATE sets any of these columns, changed or not, so a PATCH moves the version by exactly one.
CREATE TRIGGER competitions_settings_version
  BEFORE UPDATE OF name, metric, starts_at, ends_at, prize_pool, payout, max_participants, score_source, scoring,
                   clock, grace_hours, allow_manual
  ON public.competitions
  FOR EACH ROW EXECUTE FUNCTION public.count_settings_version();

-- The view gains the column at its end (the view's other columns unchanged, as CREATE OR REPLACE requires).
CREATE OR REPLACE VIEW public.competition_summaries WITH (security_invoker = true) AS
  SELECT c.id, c.name, c.metric, c.starts_at, c.ends_at, c.prize_pool, c.payout, c.created_at,
         c.participants::bigint AS participants, c.max_participants, c.cancelled_at,
         c.score_source, c.scoring, c.clock, c.grace_hours, c.allow_manual,
         c.ends_at + make_interval(hours => c.grace_hours) AS final_at,
         c.settings_version
  FROM public.competitions c;
