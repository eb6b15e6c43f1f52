-- Avatar images that no profile shows any more leave storage, however the profile let go of them.
--
-- The Worker removes an image from R2 right after the request that let go of it (a new avatar, DELETE /api/v1/me).
-- Two ways left it there for good: that removal failing (the bucket down or slow: the account is deleted all the
-- same, and the image stayed public at its URL), and an account deleted in Supabase Auth, whose cascade the Worker
-- never sees. Now every image a profile stops showing, when no other profile shows it (images are content-addressed,
-- so two users may share one), is queued here by a trigger, whatever wrote the profile; showing it again takes it
-- off the queue. The Worker's cron trigger removes what has waited a while and takes it off the queue
-- (src/maintenance.rs); removing an image already gone is harmless, so the request's own removal needs no bookkeeping.
CREATE TABLE public.avatar_removals (
  avatar_url text PRIMARY KEY,
  queued_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX avatar_removals_queued_at ON public.avatar_removals (queued_at);
ALTER TABLE public.avatar_removals ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.avatar_removals FROM PUBLIC, anon, authenticated;
GRANT SELECT, DELETE ON public.avatar_removals TO service_role;

CREATE FUNCTION public.queue_avatar_removal() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF TG_OP <> 'DELETE' AND NEW.avatar_url IS NOT NULL THEN
      DELETE FROM public.avatar_removals r WHERE r.avatar_url = NEW.avatar_url;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.avatar_url IS NOT NULL
       AND (TG_OP = 'DELETE' OR NEW.avatar_url IS DISTINCT FROM OLD.avatar_url)
       AND NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.avatar_url = OLD.avatar_url) THEN
      INSERT INTO public.avatar_removals (avatar_url) VALUES (OLD.avatar_url)
        ON CONFLICT (avatar_url) DO UPDATE SET queued_at = now();
    END IF;
    RETURN NULL;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.queue_avatar_removal() FROM PUBLIC, anon, authenticated;

CREATE TRIGGER profiles_queue_avatar_removal
  AFTER INSERT OR DELETE OR UPDATE OF avatar_url ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.queue_avatar_removal();

-- The images queued at least p_after_secs ago (oldest first, at most p_limit), for the Worker to remove: a JSON array
-- of their URLs.
CREATE FUNCTION public.avatar_removals_due(p_after_secs integer, p_limit integer) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT coalesce(jsonb_agg(due.avatar_url ORDER BY due.queued_at, due.avatar_url), '[]'::jsonb)
      FROM (SELECT r.avatar_url, r.queued_at FROM public.avatar_removals r
              WHERE r.queued_at <= now() - make_interval(secs => greatest(p_after_secs, 0))
              ORDER BY r.queued_at, r.avatar_url
              LIMIT least(greatest(p_limit, 0), 1000)) due;
  $$;
REVOKE EXECUTE ON FUNCTION public.avatar_removals_due(integer, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.avatar_removals_due(integer, integer) TO service_role;

-- Images the Worker removed from storage: off the queue. Returns how many rows it took off.
CREATE FUNCTION public.avatar_removals_done(p_urls text[]) RETURNS integer
  LANGUAGE sql VOLATILE SET search_path = ''
  AS $$
    WITH done AS (DELETE FROM public.avatar_removals r WHERE r.avatar_url = ANY (p_urls) RETURNING 1)
    SELECT count(*)::integer FROM done;
  $$;
REVOKE EXECUTE ON FUNCTION public.avatar_removals_done(text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.avatar_removals_done(text[]) TO service_role;

-- Images of profiles already gone (accounts deleted in Supabase Auth before this migration) cannot be found from
-- here: their URLs were in the rows that went. What profiles let go of from now on is queued.
