-- The same decision again rewrites the boards that hold the member (a retry of a decision whose writes failed), at
-- the member's current days version. An object drops a total whose version it already applied, but its version can
-- lag the database's: a moved end raises the member's version and rescores that competition alone. So a retry could
-- replace an administrator's correction made after the decision in another competition of the member's, and deciding
-- twice was not a no-op. Now the retry leaves out the competitions where the member's score was corrected after the
-- decision (the correction is the newer word; one made before it is replaced, as the first decision replaced it).
-- This replaces the definition of 20261205200000_repeated_hold_decision_rescores.sql; only the `ELSE` branch's filter
-- and the decision's time read with the status are new.
CREATE OR REPLACE FUNCTION public.decide_hold(p_user uuid, p_day date, p_decision text, p_reason text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    current text;
    decided timestamptz;
    v bigint;
    inputs jsonb := NULL;
  BEGIN
    IF p_decision NOT IN ('approved', 'rejected') THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'decision must be approved or rejected';
    END IF;
    -- Lock the user's version row first, as syncs do, so a decision and a sync are ordered.
    PERFORM 1 FROM public.profiles p WHERE p.user_id = p_user FOR UPDATE;
    SELECT h.status, h.decided_at INTO current, decided FROM public.fitness_holds h
      WHERE h.user_id = p_user AND h.day = p_day FOR UPDATE;
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
          AND NOT EXISTS (
            SELECT 1 FROM public.admin_actions a
            WHERE a.competition_id = (c.rules->>'id')::uuid AND a.user_id = p_user
              AND a.action = 'score_corrected' AND a.at > decided)
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
