-- A hold's `counted` is the number its day currently counts (API.md, clarifications), but each held sample showed
-- what its own value would count: with a phone (75 000 steps) and a watch (76 000) both held on one approved day, the
-- day counts 76 000 (the largest source, never the sum) while the phone's hold said 75 000. Each held sample now
-- carries `day_value`, the largest value held for its metric that day by a source that was not typed in (typed-in
-- values are capped below the review threshold, so they never hold a day; `fitness_rules::day_value`), and the Worker
-- counts the day's decision on it. Computed per listed row, so the list still walks its index and stops at the limit.
CREATE OR REPLACE VIEW public.held_samples WITH (security_invoker = true) AS
  SELECT h.user_id, h.day, f.source, m.metric, h.status,
         jsonb_build_object(
           'user_id', h.user_id, 'date', h.day, 'source', f.source, 'metric', m.metric,
           'value', CASE m.metric WHEN 'steps' THEN f.steps WHEN 'active_minutes' THEN f.active_minutes
                                  WHEN 'distance_m' THEN f.distance_m ELSE f.calories END,
           'day_value', (
             SELECT max(CASE m.metric WHEN 'steps' THEN o.steps WHEN 'active_minutes' THEN o.active_minutes
                                      WHEN 'distance_m' THEN o.distance_m ELSE o.calories END)
             FROM public.fitness_days o
             WHERE o.user_id = h.user_id AND o.day = h.day AND m.metric = ANY (o.held_metrics)
               AND o.source <> 'manual' AND NOT o.user_entered),
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
