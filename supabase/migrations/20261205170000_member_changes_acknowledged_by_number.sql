-- A member change that commits after a later-numbered one is no longer skipped.
--
-- Each competition object read its member changes after the number of the last one it applied, and the read deleted
-- the changes up to that number (20261205110000). But numbers are taken when a change is written, not when its
-- transaction commits: a rename or an account deletion whose transaction was still open when the object read (a
-- Supabase dashboard deletion with its cascades, an operator's SQL session) could get a lower number than a change
-- committed and read meanwhile. The object's cursor then passed it, it was never applied, and the next read deleted
-- it: the board kept the old name — or a deleted account on the standings, paid at the end.
--
-- Now the object names the changes it has applied (the numbers of the last page it read), and the read deletes
-- exactly those before listing what is left, whatever its number. A change committed late is still there for the next
-- read. Applying a change twice is harmless (a change carries no data: the name and avatar are read as they are
-- now, newest version wins; a deleted account is forgotten once), so a page whose acknowledgement was lost is simply
-- applied again. member_changes_after stays for objects still running the code before this.
CREATE FUNCTION public.member_changes_take(p_competition uuid, p_done bigint[] DEFAULT '{}',
                                           p_limit integer DEFAULT 500)
  RETURNS jsonb
  LANGUAGE sql VOLATILE SET search_path = ''
  AS $$
    DELETE FROM public.member_changes d
      WHERE d.competition_id = p_competition AND d.id = ANY (coalesce(p_done, '{}'::bigint[]));
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'id', c.id, 'user_id', c.user_id,
             'person', CASE WHEN p.user_id IS NULL THEN NULL
                            ELSE jsonb_build_object('display_name', p.display_name, 'avatar_url', p.avatar_url,
                                                    'version', p.person_version) END)
           ORDER BY c.id), '[]'::jsonb)
    FROM (SELECT a.id, a.user_id FROM public.member_changes a
          WHERE a.competition_id = p_competition
          ORDER BY a.id
          LIMIT least(greatest(coalesce(p_limit, 500), 1), 1000)) c
    LEFT JOIN public.profiles p ON p.user_id = c.user_id;
  $$;

REVOKE EXECUTE ON FUNCTION public.member_changes_take(uuid, bigint[], integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.member_changes_take(uuid, bigint[], integer) TO service_role;
