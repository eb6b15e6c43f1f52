-- A decision on a held day is stored here first and then written to the boards by the Worker. When that second
-- step fails (an object unreachable for a moment) the administrator gets 503 and retries — but the retry is the same
-- decision again, which changed nothing and returned no rescore inputs, so the boards kept counting the day as held
-- until the member's next sync. Now the same decision again still changes nothing here (no new days version, the
-- reason kept) and returns the user's rescore inputs at their current days version, limited to the competitions
-- whose board holds the member (their score delivered here): the retry writes those boards what the first decision
-- should have (an object drops a total it already has), and puts nobody on a board, so it stays a no-op wherever the
-- first decision arrived. This replaces the definition of 20261204100000_audit_corrections_and_reasons.sql; only the
-- `ELSE` branch is new.
CREATE OR REPLACE FUNCTION public.decide_hold(p_user uuid, p_day date, p_decision text, p_reason text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    current text;
    v bigint;
    inputs jsonb := NULL;
  BEGIN
    IF p_decision NOT IN ('approved', 'rejected') THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'decision must be approved or rejected';
    END IF;
    -- Lock the user's version row first, as syncs do, so a decision and a sync are ordered.
    PERFORM 1 FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    SELECT h.status INTO current FROM public.fitness_holds h WHERE h.user_id = p_user AND h.day = p_day FOR UPDATE;
    IF NOT FOUND THEN
      RAISE SQLSTATE 'PT404' USING MESSAGE = 'no hold for this user and date';
    END IF;
    IF current IS DISTINCT FROM p_decision THEN
      UPDATE public.fitness_holds h SET status = p_decision, decided_at = now(), decision_reason = p_reason
        WHERE h.user_id = p_user AND h.day = p_day;
      UPDATE public.profiles p SET days_version = p.days_version + 1 WHERE p.user_id = p_user
        RETURNING p.days_version INTO v;
      inputs := public.rescore_inputs(p_user, v);
    ELSE
      SELECT p.days_version INTO v FROM public.profiles p WHERE p.user_id = p_user;
      inputs := public.rescore_inputs(p_user, v);
      inputs := jsonb_set(inputs, '{competitions}', coalesce((
        SELECT jsonb_agg(c.rules ORDER BY c.rules->>'id')
        FROM jsonb_array_elements(inputs->'competitions') AS c(rules)
        WHERE EXISTS (
          SELECT 1 FROM public.scores s WHERE s.user_id = p_user AND s.competition_id = (c.rules->>'id')::uuid)
      ), '[]'::jsonb));
    END IF;
    RETURN jsonb_build_object(
      'holds', coalesce((
        SELECT jsonb_agg(s.entry ORDER BY s.source, s.metric) FROM public.held_samples s
        WHERE s.user_id = p_user AND s.day = p_day), '[]'::jsonb),
      'changed', current IS DISTINCT FROM p_decision,
      'rescore', inputs);
  END
  $$;
REVOKE EXECUTE ON FUNCTION public.decide_hold(uuid, date, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.decide_hold(uuid, date, text, text) TO service_role;
