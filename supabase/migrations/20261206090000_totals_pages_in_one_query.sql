-- The start's and the end's totals passes read a page of members in one query each.
--
-- At a fitness competition's start the object reads every member's inputs through rescore_members
-- (20261204110000_rescore_after_end_moved.sql), and at the end of the grace period through member_totals
-- (20261205190000_totals_checked_at_the_end.sql), a page of members at a time (100; at most 200). Both looped over
-- the page in PL/pgSQL: a statement per member, and the page grown one member at a time (each `page || …` copies the
-- page so far); a member's stored days were looked for by a join the planner could make read the days index from
-- its start on every page. rescore_members also built each member's inputs through rescore_inputs, a SQL function
-- with a SET clause: never inlined, so rescore_inputs_at's body was planned again for every member (≈ 0.3 ms each).
-- scripts/bench-totals-pass, 20 000 members: the start's pass 562 µs a member before (453 of them in Postgres), 155
-- after (66); the end's 170 before (129), 122 after (83). A moved end's rescoring (scripts/bench-rescore) reads its
-- members through rescore_members too: 693 µs a member before, 295 after.
--
-- The definitions below return the same as the earlier ones (compared page by page on the dev database's
-- competitions). rescore_members still locks the members' version rows in user-id order before raising them.

CREATE OR REPLACE FUNCTION public.rescore_members(p_competition uuid, p_from timestamptz, p_to timestamptz,
                                                  p_after uuid, p_limit integer DEFAULT 100)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    wanted integer := least(greatest(coalesce(p_limit, 100), 1), 200);
    picked uuid[];
    page jsonb;
  BEGIN
    IF p_competition IS NULL OR p_from IS NULL OR p_to IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a competition and a time range are required';
    END IF;
    SELECT coalesce(array_agg(m.user_id ORDER BY m.user_id), '{}') INTO picked FROM (
      SELECT m.user_id FROM public.memberships m
      WHERE m.competition_id = p_competition AND m.disqualified_at IS NULL
        AND (p_after IS NULL OR m.user_id > p_after)
        -- A scalar subquery, not EXISTS: the planner may turn EXISTS into a merge join that reads the days index
        -- from its start on every page (pages grew costlier with each one read).
        AND (SELECT 1 FROM public.fitness_days f
             WHERE f.user_id = m.user_id
               AND f.day BETWEEN (p_from AT TIME ZONE 'UTC')::date - 1 AND (p_to AT TIME ZONE 'UTC')::date + 1
             LIMIT 1) IS NOT NULL
      ORDER BY m.user_id
      LIMIT wanted) m;
    -- User-id order: pages lock the members' version rows in one order, and a sync locks one row.
    PERFORM 1 FROM public.profiles p WHERE p.user_id = ANY (picked) ORDER BY p.user_id FOR UPDATE;
    -- rescore_inputs(member, version) is rescore_inputs_at at now(); called from here its plan serves the page.
    -- A member without a profile row (none: a sync creates the profile before it stores days) is passed over, not
    -- taken for the last page.
    WITH raised AS (
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = ANY (picked)
      RETURNING p.user_id, p.days_version)
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'user_id', r.user_id, 'inputs', public.rescore_inputs_at(r.user_id, r.days_version, now()))
             ORDER BY r.user_id), '[]'::jsonb)
      INTO page FROM raised r;
    RETURN jsonb_build_object('members', page,
                              'next', CASE WHEN cardinality(picked) = wanted THEN picked[wanted] END);
  END
  $$;

CREATE OR REPLACE FUNCTION public.member_totals(p_competition uuid, p_at timestamptz, p_after uuid,
                                                p_limit integer DEFAULT 100)
  RETURNS jsonb
  LANGUAGE plpgsql STABLE SET search_path = ''
  AS $$
  DECLARE
    wanted integer := least(greatest(coalesce(p_limit, 100), 1), 200);
    picked uuid[];
    page jsonb;
  BEGIN
    IF p_competition IS NULL OR p_at IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a competition and a time are required';
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'user_id', m.user_id, 'inputs', public.rescore_inputs_at(m.user_id, m.days_version, p_at))
             ORDER BY m.user_id), '[]'::jsonb),
           coalesce(array_agg(m.user_id ORDER BY m.user_id), '{}')
      INTO page, picked
      FROM (
        SELECT m.user_id, p.days_version FROM public.memberships m
        JOIN public.profiles p ON p.user_id = m.user_id
        WHERE m.competition_id = p_competition AND m.disqualified_at IS NULL
          AND (p_after IS NULL OR m.user_id > p_after)
          -- As in rescore_members: one probe of the days index per member.
          AND (SELECT 1 FROM public.fitness_days f WHERE f.user_id = m.user_id LIMIT 1) IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM public.admin_actions a
                          WHERE a.competition_id = p_competition AND a.user_id = m.user_id
                            AND a.action = 'score_corrected')
        ORDER BY m.user_id
        LIMIT wanted) m;
    RETURN jsonb_build_object('members', page,
                              'next', CASE WHEN cardinality(picked) = wanted THEN picked[wanted] END);
  END
  $$;

REVOKE EXECUTE ON FUNCTION public.rescore_members(uuid, timestamptz, timestamptz, uuid, integer),
  public.member_totals(uuid, timestamptz, uuid, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rescore_members(uuid, timestamptz, timestamptz, uuid, integer),
  public.member_totals(uuid, timestamptz, uuid, integer) TO service_role;
