-- A decided hold is reopened only by a change to what was held.
--
-- sync_fitness_days (20261201100000) put a decided day back to pending whenever a held sample's stored row changed
-- at all: an approved day of 70 000 steps, sent again with the same steps and the day's calories (below their
-- threshold) added or updated, lost its approval and counted as the 60 000 threshold until reviewed again, though
-- the reviewer had seen every number that was held. The review now reopens when a held metric is new to the sample
-- (the row is new, or the metric was not held in it), its value changed, or the sample changed between typed in and
-- recorded (the manual cap's part in what was decided); the row's other metrics may change freely. A changed held
-- value still reopens the review, approved or rejected, as before.
CREATE OR REPLACE FUNCTION public.sync_fitness_days(p_user uuid, p_source text, p_days jsonb,
                                                    p_time_zone text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SET search_path = ''
  AS $$
  DECLARE
    v bigint;
    zone text;
    today date;
    future jsonb;
  BEGIN
    IF p_user IS NULL THEN
      RAISE SQLSTATE 'PT400' USING MESSAGE = 'a user id is required';
    END IF;
    PERFORM public.ensure_profile(p_user);
    UPDATE public.profiles p
      SET days_version = p.days_version + 1, time_zone = coalesce(p_time_zone, p.time_zone)
      WHERE p.user_id = p_user
      RETURNING p.days_version, p.time_zone INTO v, zone;
    today := (now() AT TIME ZONE zone)::date;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_days) AS d(day date) WHERE d.day IS NULL) THEN
      RAISE SQLSTATE 'PT422' USING MESSAGE = 'a day is missing';
    END IF;
    SELECT coalesce(jsonb_agg(d.index ORDER BY d.index), '[]'::jsonb) INTO future
      FROM jsonb_to_recordset(p_days) AS d(index integer, day date) WHERE d.day > today;

    -- Reopen the review of days whose held values change (before the upsert overwrites the stored sample).
    INSERT INTO public.fitness_holds AS h (user_id, day)
      SELECT DISTINCT p_user, d.day
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      CROSS JOIN LATERAL unnest(d.held_metrics) AS m(metric)
      LEFT JOIN public.fitness_days f ON f.user_id = p_user AND f.source = p_source AND f.day = d.day
      WHERE d.day <= today
        AND (f.day IS NULL
             OR NOT m.metric = ANY (f.held_metrics)
             OR coalesce(d.user_entered, false) IS DISTINCT FROM f.user_entered
             OR CASE m.metric WHEN 'steps' THEN coalesce(d.steps, 0) IS DISTINCT FROM f.steps
                              WHEN 'active_minutes' THEN coalesce(d.active_minutes, 0) IS DISTINCT FROM f.active_minutes
                              WHEN 'distance_m' THEN coalesce(d.distance_m, 0) IS DISTINCT FROM f.distance_m
                              ELSE coalesce(d.calories, 0) IS DISTINCT FROM f.calories END)
      ON CONFLICT (user_id, day) DO UPDATE SET status = 'pending', decided_at = NULL;

    INSERT INTO public.fitness_days AS f
        (user_id, source, day, steps, active_minutes, distance_m, calories, user_entered, held_metrics)
      SELECT p_user, p_source, d.day, coalesce(d.steps, 0), coalesce(d.active_minutes, 0),
             coalesce(d.distance_m, 0), coalesce(d.calories, 0), coalesce(d.user_entered, false),
             coalesce(d.held_metrics, '{}')
      FROM jsonb_to_recordset(p_days) AS d(day date, steps bigint, active_minutes bigint, distance_m bigint,
                                           calories bigint, user_entered boolean, held_metrics text[])
      WHERE d.day <= today
      ON CONFLICT (user_id, source, day) DO UPDATE
        SET steps = EXCLUDED.steps, active_minutes = EXCLUDED.active_minutes, distance_m = EXCLUDED.distance_m,
            calories = EXCLUDED.calories, user_entered = EXCLUDED.user_entered,
            held_metrics = EXCLUDED.held_metrics, updated_at = now();

    DELETE FROM public.fitness_holds h
      WHERE h.user_id = p_user
        AND h.day IN (SELECT d.day FROM jsonb_to_recordset(p_days) AS d(day date))
        AND NOT EXISTS (SELECT 1 FROM public.fitness_days f
                        WHERE f.user_id = p_user AND f.day = h.day AND cardinality(f.held_metrics) > 0);

    RETURN public.rescore_inputs(p_user, v) || jsonb_build_object('future', future);
  END
  $$;
