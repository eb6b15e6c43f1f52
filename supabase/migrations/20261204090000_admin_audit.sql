-- An audit trail of the administrators' decisions that move prize money: who changed a competition (created,
-- edited, cancelled), who disqualified a member and why, who approved or rejected a held day, and when. Triggers
-- write it, so no path round them goes unrecorded: the Worker, a script holding the service key, SQL typed into the
-- dashboard. The Worker names the person acting (the `sub` of their service_role token) and its request id in the
-- headers `X-Actor-Id` and `X-Request-Id`, which PostgREST hands to SQL as `request.headers`; a change made without
-- them (the service key, which names nobody, or plain SQL) is recorded with a null actor.
--
-- The trail is append-only, for the service role too, and readable only with the service key (or as the owner).
-- It outlives an account's deletion on purpose: decisions about prize money stay explainable; the rows hold ids,
-- dates, the decision and the reason given, no profile data.

CREATE TABLE public.admin_actions (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  actor          uuid,
  request_id     text,
  action         text NOT NULL CHECK (action IN ('competition_created', 'competition_changed', 'competition_cancelled',
                                                 'member_disqualified', 'hold_approved', 'hold_rejected')),
  competition_id uuid,
  user_id        uuid,
  day            date,
  detail         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_actions_competition ON public.admin_actions (competition_id, id) WHERE competition_id IS NOT NULL;
CREATE INDEX admin_actions_user ON public.admin_actions (user_id, id) WHERE user_id IS NOT NULL;
ALTER TABLE public.admin_actions ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.admin_actions FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.admin_actions TO service_role;

-- Who is acting and under which request, from the headers PostgREST exposes (null for each when absent or not
-- well-formed: a header is the caller's word, and only service-key callers reach the audited writes).
CREATE FUNCTION public.request_actor() RETURNS uuid
  LANGUAGE plpgsql STABLE SET search_path = ''
  AS $$
  DECLARE
    id text := nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-actor-id';
  BEGIN
    IF id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
      RETURN id::uuid;
    END IF;
    RETURN NULL;
  END
  $$;

CREATE FUNCTION public.request_id() RETURNS text
  LANGUAGE plpgsql STABLE SET search_path = ''
  AS $$
  DECLARE
    id text := nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-request-id';
  BEGIN
    IF id ~ '^[A-Za-z0-9._-]{1,64}$' THEN
      RETURN id;
    END IF;
    RETURN NULL;
  END
  $$;

CREATE FUNCTION public.record_admin_action(p_action text, p_competition uuid, p_user uuid, p_day date, p_detail jsonb)
  RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
  AS $$
    INSERT INTO public.admin_actions (actor, request_id, action, competition_id, user_id, day, detail)
    VALUES (public.request_actor(), public.request_id(), p_action, p_competition, p_user, p_day, p_detail)
  $$;

-- The columns of a competition an administrator sets; `participants` (a counter) and `created_at` are not
-- decisions, so a join does not write to the trail.
CREATE FUNCTION public.audit_competition() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  DECLARE
    rules constant text[] := ARRAY['name', 'metric', 'starts_at', 'ends_at', 'prize_pool', 'payout',
      'max_participants', 'score_source', 'scoring', 'clock', 'grace_hours', 'allow_manual'];
    before jsonb;
    after jsonb;
    old_row jsonb;
    new_row jsonb := to_jsonb(NEW);
    k text;
  BEGIN
    IF TG_OP = 'INSERT' THEN
      SELECT jsonb_object_agg(r, new_row -> r) INTO after FROM unnest(rules) r WHERE new_row ? r;
      PERFORM public.record_admin_action('competition_created', NEW.id, NULL, NULL, coalesce(after, '{}'));
      RETURN NULL;
    END IF;
    IF OLD.cancelled_at IS NULL AND NEW.cancelled_at IS NOT NULL THEN
      PERFORM public.record_admin_action('competition_cancelled', NEW.id, NULL, NULL, '{}');
    END IF;
    old_row := to_jsonb(OLD);
    before := '{}';
    after := '{}';
    FOREACH k IN ARRAY rules LOOP
      IF new_row ? k AND (old_row -> k) IS DISTINCT FROM (new_row -> k) THEN
        before := before || jsonb_build_object(k, old_row -> k);
        after := after || jsonb_build_object(k, new_row -> k);
      END IF;
    END LOOP;
    IF after <> '{}' THEN
      PERFORM public.record_admin_action('competition_changed', NEW.id, NULL, NULL,
        jsonb_build_object('before', before, 'after', after));
    END IF;
    RETURN NULL;
  END
  $$;
CREATE TRIGGER competitions_audit AFTER INSERT OR UPDATE ON public.competitions
  FOR EACH ROW EXECUTE FUNCTION public.audit_competition();

CREATE FUNCTION public.audit_disqualification() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF OLD.disqualified_at IS NULL AND NEW.disqualified_at IS NOT NULL THEN
      PERFORM public.record_admin_action('member_disqualified', NEW.competition_id, NEW.user_id, NULL,
        jsonb_build_object('reason', NEW.disqualified_reason));
    END IF;
    RETURN NULL;
  END
  $$;
CREATE TRIGGER memberships_audit AFTER UPDATE OF disqualified_at ON public.memberships
  FOR EACH ROW EXECUTE FUNCTION public.audit_disqualification();

-- A decision on a held day; a sync that holds the day again (back to pending) is the user's, not a decision.
CREATE FUNCTION public.audit_hold_decision() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
  AS $$
  BEGIN
    IF NEW.status IN ('approved', 'rejected') AND OLD.status IS DISTINCT FROM NEW.status THEN
      PERFORM public.record_admin_action('hold_' || NEW.status, NULL, NEW.user_id, NEW.day,
        jsonb_build_object('previous', OLD.status));
    END IF;
    RETURN NULL;
  END
  $$;
CREATE TRIGGER fitness_holds_audit AFTER UPDATE OF status ON public.fitness_holds
  FOR EACH ROW EXECUTE FUNCTION public.audit_hold_decision();

-- Only the triggers write the trail: not even the service key may call the writer itself (a forged row).
REVOKE EXECUTE ON FUNCTION public.request_actor(), public.request_id() FROM PUBLIC, anon, authenticated;
REVOKE EXECUTE ON FUNCTION public.record_admin_action(text, uuid, uuid, date, jsonb), public.audit_competition(),
  public.audit_disqualification(), public.audit_hold_decision() FROM PUBLIC, anon, authenticated, service_role;

-- The review queue shows who decided each held day and when (null while pending; a null actor on a decided day:
-- the service key, naming nobody, or SQL).
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
             ORDER BY a.id DESC LIMIT 1) END) AS entry
  FROM public.fitness_holds h
  JOIN public.fitness_days f ON f.user_id = h.user_id AND f.day = h.day
  CROSS JOIN LATERAL unnest(f.held_metrics) AS m(metric);
