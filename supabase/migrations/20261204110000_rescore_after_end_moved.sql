-- Rescoring the members of a fitness competition whose end an administrator moved.
--
-- Which calendar days count depends on `ends_at` (a day counts when its midnight-to-midnight interval in the
-- competition's clock overlaps the window). Moving the end changes that for the days near the old and the new end:
-- extending a finalizing competition makes the days synced after the old end count; ending one early can drop a day
-- a member in a zone east of a fixed clock already synced. Members' scores come from their stored days, so the
-- Worker rescores them after the move, a page at a time, through this function.

-- A page of the competition's (not disqualified) members, in user-id order after p_after, who have a stored day in
-- [date(p_from) - 1, date(p_to) + 1] (every zone's day whose counting a move of the end between p_from and p_to can
-- change; UTC dates). Each member's days version is raised first, as a sync raises it (the object drops any total
-- computed before: a sync that read the old end loses to this rescore), and the member comes back with their
-- rescore_inputs. At most p_limit (1..200) members a page. Returns {"members": [{"user_id", "inputs"}], "next": the
-- p_after of the next page, null after the last}.
CREATE FUNCTION public.rescore_members(p_competition uuid, p_from timestamptz, p_to timestamptz, p_after uuid,
                                       p_limit integer DEFAULT 100)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    member uuid;
    v bigint;
    wanted integer := least(greatest(coalesce(p_limit, 100), 1), 200);
    seen integer := 0;
    page jsonb := '[]'::jsonb;
  BEGIN
    IF p_competition IS NULL OR p_from IS NULL OR p_to IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a competition and a time range are required';
    END IF;
    -- User-id order: pages lock the members' version rows in one order, and a sync locks one row.
    FOR member IN
      SELECT m.user_id FROM public.memberships m
      WHERE m.competition_id = p_competition AND m.disqualified_at IS NULL
        AND (p_after IS NULL OR m.user_id > p_after)
        AND EXISTS (SELECT 1 FROM public.fitness_days f
                    WHERE f.user_id = m.user_id
                      AND f.day BETWEEN (p_from AT TIME ZONE 'UTC')::date - 1 AND (p_to AT TIME ZONE 'UTC')::date + 1)
      ORDER BY m.user_id
      LIMIT wanted
    LOOP
      seen := seen + 1;
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = member
        RETURNING p.days_version INTO v;
      IF v IS NOT NULL THEN
        page := page || jsonb_build_array(jsonb_build_object('user_id', member,
                                                             'inputs', public.rescore_inputs(member, v)));
      END IF;
    END LOOP;
    -- A member without a profile row (none: a sync creates the profile before it stores days) is passed over, not
    -- taken for the last page.
    RETURN jsonb_build_object('members', page, 'next', CASE WHEN seen = wanted THEN member END);
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.rescore_members(uuid, timestamptz, timestamptz, uuid, integer)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_members(uuid, timestamptz, timestamptz, uuid, integer) TO service_role;
