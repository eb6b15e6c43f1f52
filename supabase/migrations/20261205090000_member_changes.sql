-- The boards follow what happens to their members' accounts in the database, however it happens.
--
-- DELETE /api/v1/me and PATCH /api/v1/me (and the avatar route) tell each competition object the user is in. But an
-- account deleted in Supabase itself (the dashboard, the Auth admin API, an operator's SQL) deletes the same rows by
-- cascade without telling any object: the boards kept the user, and the final standings paid them a prize that
-- final_results then recorded for an account that no longer exists. An object that DELETE /api/v1/me could not reach
-- kept them the same way. And a user may rename themselves through the database API (their one direct write,
-- 20261201090000): no board ever showed that name.
--
-- Every deleted profile, and every change of a profile's name or avatar, now leaves one numbered row per competition
-- the user is in. Each competition object reads its competition's rows after the last one it applied (after each
-- outbox delivery, at most every few seconds while its board is read, and before its standings become final): a
-- row whose user has a profile brings the current name and avatar; one whose profile is gone means the account was
-- deleted, and the object forgets the member as DELETE /api/v1/me would have made it.
CREATE TABLE public.member_changes (
  id             bigserial PRIMARY KEY,
  competition_id uuid NOT NULL,
  user_id        uuid NOT NULL,
  changed_at     timestamptz NOT NULL DEFAULT now()
);
-- No foreign key to competitions: a deleted competition's rows are simply never read again.
CREATE INDEX member_changes_competition ON public.member_changes (competition_id, id);
ALTER TABLE public.member_changes ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.member_changes FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.member_changes TO service_role;
GRANT USAGE ON SEQUENCE public.member_changes_id_seq TO service_role;

-- One row per competition the profile's user is in. Before a delete (the memberships still exist then, whoever
-- deletes: delete_account, or the cascade from auth.users that Supabase Auth's own role runs), after an update that
-- changed what the boards show (person_version moved). SECURITY DEFINER so no writer needs a grant on the table.
CREATE FUNCTION public.record_member_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    INSERT INTO public.member_changes (competition_id, user_id)
      SELECT m.competition_id, m.user_id FROM public.memberships m WHERE m.user_id = OLD.user_id
      ORDER BY m.competition_id;
    RETURN OLD;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.record_member_change() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER profiles_member_departure BEFORE DELETE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.record_member_change();
CREATE TRIGGER profiles_member_person_change AFTER UPDATE OF display_name, avatar_url ON public.profiles
  FOR EACH ROW WHEN (NEW.person_version IS DISTINCT FROM OLD.person_version)
  EXECUTE FUNCTION public.record_member_change();

-- A competition's changes after p_after, oldest first, at most p_limit (1..1000): [{"id", "user_id", "person"}],
-- person the profile as it is now ({"display_name", "avatar_url", "version"}) or null when the account is gone.
CREATE FUNCTION public.member_changes_after(p_competition uuid, p_after bigint DEFAULT 0, p_limit integer DEFAULT 500)
  RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
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
REVOKE EXECUTE ON FUNCTION public.member_changes_after(uuid, bigint, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.member_changes_after(uuid, bigint, integer) TO service_role;
