-- The cron trigger removes only images no profile shows when it asks. A queued image can be shown: an upload whose
-- profile update timed out queues its image (the update may not have landed, and then nothing would ever show the
-- image), and the update may have landed, or land while the queueing runs, after the queue's own check. Such a row
-- stays, harmless, until a profile lets go of the image again and queues it anew.
CREATE OR REPLACE FUNCTION public.avatar_removals_due(p_after_secs integer, p_limit integer) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT coalesce(jsonb_agg(due.avatar_url ORDER BY due.queued_at, due.avatar_url), '[]'::jsonb)
      FROM (SELECT r.avatar_url, r.queued_at FROM public.avatar_removals r
              WHERE r.queued_at <= now() - make_interval(secs => greatest(p_after_secs, 0))
                AND NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.avatar_url = r.avatar_url)
              ORDER BY r.queued_at, r.avatar_url
              LIMIT least(greatest(p_limit, 0), 1000)) due;
  $$;
