-- At most one member change waits per member and competition.
--
-- Every rename (a user may rename themselves at the API's default rate, 100 a second) wrote one row per competition
-- the user is in, and rows leave only when that competition's object reads them (or the operator's prune statement
-- runs, for a finished competition nobody opens): one account renaming itself all day in 20 competitions could leave
-- 170 million rows. A change carries no data (the object reads the profile as it is now), so a second change of a
-- member whose first is not applied yet says nothing the first does not. It now takes the waiting row over under a
-- new number instead of adding one: the object acknowledges the numbers it applied (member_changes_take), so the
-- number it read before the second change no longer names the row, and the row stays for its next read. A read
-- that raced the second change (its DELETE waiting on the renumbering's row lock) finds the row renumbered and leaves
-- it.
DELETE FROM public.member_changes a
  USING public.member_changes b
  WHERE a.competition_id = b.competition_id AND a.user_id = b.user_id AND a.id < b.id;

CREATE UNIQUE INDEX member_changes_one_per_member ON public.member_changes (competition_id, user_id);

CREATE OR REPLACE FUNCTION public.record_member_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    INSERT INTO public.member_changes (competition_id, user_id)
      SELECT m.competition_id, m.user_id FROM public.memberships m WHERE m.user_id = OLD.user_id
      ORDER BY m.competition_id
      ON CONFLICT (competition_id, user_id)
        DO UPDATE SET id = nextval('public.member_changes_id_seq'), changed_at = now();
    RETURN OLD;
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.record_member_change() FROM PUBLIC, anon, authenticated;
