-- Accounts deleted round the Worker leave the competitions' boards too.
--
-- DELETE /api/v1/me tells every competition object the user was in to forget them. An account deleted any other way
-- (the Supabase dashboard, the Auth admin API, an operator's SQL) deletes the same rows here, by cascade, but no
-- object heard of it: the boards kept the user, and the final standings paid them a prize that final_results then
-- recorded for an account that no longer exists. And an object that DELETE /me could not reach kept them the same way.
--
-- Every deleted profile now leaves one row per competition it was in, numbered in order; each competition object reads
-- its competition's rows after the last one it applied (after every outbox delivery, and before its standings become
-- final) and forgets those members as DELETE /me would have made it.
CREATE TABLE public.account_departures (
  id             bigserial PRIMARY KEY,
  competition_id uuid NOT NULL,
  user_id        uuid NOT NULL,
  departed_at    timestamptz NOT NULL DEFAULT now()
);
-- No foreign key to competitions: a deleted competition's rows are simply never read again.
CREATE INDEX account_departures_competition ON public.account_departures (competition_id, id);
ALTER TABLE public.account_departures ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.account_departures FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.account_departures TO service_role;
GRANT USAGE ON SEQUENCE public.account_departures_id_seq TO service_role;

-- Before a profile goes (its memberships still exist then, whoever deletes it: delete_account, or the cascade from
-- auth.users that Supabase Auth's own role runs): one departure per competition it was in. SECURITY DEFINER so that
-- role needs no grant on the table.
CREATE FUNCTION public.record_account_departure() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    INSERT INTO public.account_departures (competition_id, user_id)
      SELECT m.competition_id, m.user_id FROM public.memberships m WHERE m.user_id = OLD.user_id
      ORDER BY m.competition_id;
    RETURN OLD;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.record_account_departure() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER profiles_record_account_departure BEFORE DELETE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.record_account_departure();

-- A competition's departures after p_after, oldest first, at most p_limit (1..1000): [{"id", "user_id"}].
CREATE FUNCTION public.account_departures_after(p_competition uuid, p_after bigint DEFAULT 0,
                                                p_limit integer DEFAULT 500)
  RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = ''
  AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'user_id', d.user_id) ORDER BY d.id), '[]'::jsonb)
    FROM (SELECT a.id, a.user_id FROM public.account_departures a
          WHERE a.competition_id = p_competition AND a.id > coalesce(p_after, 0)
          ORDER BY a.id
          LIMIT least(greatest(coalesce(p_limit, 500), 1), 1000)) d;
  $$;
REVOKE EXECUTE ON FUNCTION public.account_departures_after(uuid, bigint, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.account_departures_after(uuid, bigint, integer) TO service_role;
