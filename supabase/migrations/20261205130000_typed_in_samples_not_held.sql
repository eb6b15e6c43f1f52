-- Typed-in samples never hold their day.
--
-- The Worker marked a sample's metrics held from its raw values, typed in or not, so a manual 90 000 steps opened
-- a review although the manual cap (20 000 steps; every manual cap is below its review threshold) applies first
-- and the day's value could never reach the threshold through it. The review could only matter by its rejection,
-- which zeroed the steps recorded beside it by the day's other sources. The Worker no longer marks typed-in samples
-- (nor counts their old marks); this clears the marks stored before and the holds left without a held sample.
UPDATE public.fitness_days f
  SET held_metrics = '{}'
  WHERE (f.source = 'manual' OR f.user_entered) AND cardinality(f.held_metrics) > 0;

DELETE FROM public.fitness_holds h
  WHERE NOT EXISTS (SELECT 1 FROM public.fitness_days f
                    WHERE f.user_id = h.user_id AND f.day = h.day AND cardinality(f.held_metrics) > 0);
