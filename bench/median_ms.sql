-- Included by the SQL benchmarks (`\ir median_ms.sql`): pg_temp.median_ms(statement, runs) runs `statement` `runs`
-- times in the caller's transaction and returns the median of their wall-clock times in milliseconds (2 decimals).
CREATE FUNCTION pg_temp.median_ms(statement text, runs integer) RETURNS numeric LANGUAGE plpgsql AS $$
  DECLARE
    started timestamptz;
    taken numeric[] := '{}';
  BEGIN
    FOR i IN 1..runs LOOP
      started := clock_timestamp();
      EXECUTE statement;
      taken := taken || (extract(epoch FROM clock_timestamp() - started) * 1000)::numeric;
    END LOOP;
    RETURN round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(taken) x)::numeric, 2);
  END $$;
