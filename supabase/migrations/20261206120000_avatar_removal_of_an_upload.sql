-- An upload can leave an image in the bucket that no profile ever showed: its storage call timed out (the bucket may
-- still write the image), or its profile update failed and removing the image again failed too. The trigger of
-- 20261206110000 queues only what a profile lets go of, so the Worker queues such an image itself; nothing is queued
-- while a profile shows it (a retried upload that succeeded), and showing it later takes it off the queue.
CREATE FUNCTION public.queue_avatar_removal_of(p_url text) RETURNS boolean
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
  AS $$
    WITH queued AS (
      INSERT INTO public.avatar_removals (avatar_url)
        SELECT p_url WHERE NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.avatar_url = p_url)
        ON CONFLICT (avatar_url) DO UPDATE SET queued_at = now()
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM queued);
  $$;
REVOKE EXECUTE ON FUNCTION public.queue_avatar_removal_of(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.queue_avatar_removal_of(text) TO service_role;
