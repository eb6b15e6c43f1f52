-- The member-change log (20261205090000) keeps only what its competition's object has not applied yet.
--
-- The log only grew: a competition's object reads its rows after the last one it applied, and nothing deleted
-- them. Each competition has one reader, its object, which stores the number of the last change it applied before
-- it reads again, and asks for the changes after exactly that number: so the rows up to it are done with. The read
-- now deletes them first. What stays are the changes not read yet — and those of a competition whose object is never
-- asked again (a finished competition nobody opens), which PRODUCTION_GUIDE.md's prune statement removes.
CREATE OR REPLACE FUNCTION public.member_changes_after(p_competition uuid, p_after bigint DEFAULT 0,
                                                       p_limit integer DEFAULT 500)
  RETURNS jsonb
  LANGUAGE sql VOLATILE SET search_path = ''
  AS $$
    DELETE FROM public.member_changes d
      WHERE d.competition_id = p_competition AND d.id <= coalesce(p_after, 0);
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'id', c.id, 'user_id', c.user_id,
             'person', CASE WHEN p.user_id IS NULL THEN NULL
                            ELSE jsonb_build_object('display_name', p.display_name, 'avatar_url', p.avatar_url,
                                                    'version', p.person_version) END)
           ORDER BY c.id), '[]'::jsonb)
    FROM (SELECT a.id, a.user_id FROM public.member_changes a
          WHERE a.competition_id = p_competition AND a.id > coalesce(p_after, 0)
          ORDER BY a.id
          LIMIT least(greatest(coalesce(p_limit, 500), 1), 1000)) c
    LEFT JOIN public.profiles p ON p.user_id = c.user_id;
  $$;
