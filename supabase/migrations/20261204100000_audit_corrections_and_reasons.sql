-- Two additions to the audit trail (20261204090000_admin_audit.sql).
--
-- Administrators' score corrections. A correction is applied by the competition's object (the board is the
-- object's, and it keeps working while the database is away) and reaches `scores` through the object's outbox, which
-- does not know who asked; so the Worker records each accepted correction itself, with the score asked for, the
-- score stored and the object's sequence number of the change. The actor and request id come from the request's
-- headers as for every other row of the trail.
--
-- Reasons for review decisions (at the end): why a held day was approved or rejected.

ALTER TABLE public.admin_actions DROP CONSTRAINT admin_actions_action_check;
ALTER TABLE public.admin_actions ADD CONSTRAINT admin_actions_action_check
  CHECK (action IN ('competition_created', 'competition_changed', 'competition_cancelled', 'member_disqualified',
                    'hold_approved', 'hold_rejected', 'score_corrected'));

-- Returns the trail row's id. Only the service role may call it, and it writes only this kind of row.
CREATE FUNCTION public.record_score_correction(p_competition uuid, p_user uuid, p_requested bigint, p_score bigint,
                                               p_seq bigint)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
  AS $$
    INSERT INTO public.admin_actions (actor, request_id, action, competition_id, user_id, detail)
    VALUES (public.request_actor(), public.request_id(), 'score_corrected', p_competition, p_user,
            jsonb_build_object('requested', p_requested, 'score', p_score, 'seq', p_seq))
    RETURNING id
  $$;
REVOKE EXECUTE ON FUNCTION public.record_score_correction(uuid, uuid, bigint, bigint, bigint)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_score_correction(uuid, uuid, bigint, bigint, bigint) TO service_role;

-- Why a held day was decided: an optional reason (1..200 characters) given with the decision, kept with the hold,
-- shown in the review queue and recorded in the trail.
ALTER TABLE public.fitness_holds
  ADD COLUMN decision_reason text CHECK (decision_reason IS NULL OR char_length(decision_reason) BETWEEN 1 AND 200);

DROP FUNCTION public.decide_hold(uuid, date, text);
-- Records an administrator's decision on a user's held day, with its reason when one is given. PT404 when the day
-- has no hold. The same decision again changes nothing ("changed": false; its reason is not replaced); a new one
-- bumps the user's days version and returns rescore_inputs, so every affected competition is rescored. Returns
-- {"holds": [the day's entries], "changed", "rescore"}.
CREATE FUNCTION public.decide_hold(p_user uuid, p_day date, p_decision text, p_reason text DEFAULT NULL)
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

-- A sync that holds a decided day again puts it back to pending: its old reason goes with its old decision.
CREATE FUNCTION public.forget_hold_reason() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
  AS $$
  BEGIN
    IF NEW.status = 'pending' THEN
      NEW.decision_reason := NULL;
    END IF;
    RETURN NEW;
  END
  $$;
CREATE TRIGGER fitness_holds_pending_reason BEFORE UPDATE OF status ON public.fitness_holds
  FOR EACH ROW EXECUTE FUNCTION public.forget_hold_reason();
REVOKE EXECUTE ON FUNCTION public.forget_hold_reason() FROM PUBLIC, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION public.audit_hold_decision() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF NEW.status IN ('approved', 'rejected') AND OLD.status IS DISTINCT FROM NEW.status THEN
      PERFORM public.record_admin_action('hold_' || NEW.status, NULL, NEW.user_id, NEW.day,
        jsonb_build_object('previous', OLD.status, 'reason', NEW.decision_reason));
    END IF;
    RETURN NULL;
  END
  $$;

CREATE OR REPLACE VIEW public.held_samples WITH (security_invoker = true) AS
  SELECT h.user_id, h.day, f.source, m.metric, h.status,
         jsonb_build_object(
           'user_id', h.user_id, 'date', h.day, 'source', f.source, 'metric', m.metric,
           'value', CASE m.metric WHEN 'steps' THEN f.steps WHEN 'active_minutes' THEN f.active_minutes
                                  WHEN 'distance_m' THEN f.distance_m ELSE f.calories END,
           'status', h.status, 'user_entered', f.user_entered,
           'decided_at', CASE WHEN h.status <> 'pending' THEN h.decided_at END,
           'decided_by', CASE WHEN h.status <> 'pending' THEN (
             SELECT a.actor FROM public.admin_actions a
             WHERE a.user_id = h.user_id AND a.day = h.day AND a.action IN ('hold_approved', 'hold_rejected')
             ORDER BY a.id DESC LIMIT 1) END,
           'reason', h.decision_reason) AS entry
  FROM public.fitness_holds h
  JOIN public.fitness_days f ON f.user_id = h.user_id AND f.day = h.day
  CROSS JOIN LATERAL unnest(f.held_metrics) AS m(metric);
