//! The local stack: migrations are applied once, in order, and recorded; `start` on a running stack is a no-op.

use e2e::{repo_root, stack};

#[test]
fn every_migration_is_recorded_once_and_a_second_start_applies_nothing() {
    let (ok, text) = stack(&["start"]);
    assert!(ok, "{text}");
    assert!(text.contains("postgres already running"), "{text}");
    assert!(text.contains("0 applied now"), "{text}");

    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("supabase/migrations"))
        .expect("migrations dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sql"))
        .map(|name| name.split('_').next().unwrap_or_default().to_owned())
        .collect();
    files.sort();
    let (ok, recorded) =
        stack(&["psql", "-tA", "-c", "SELECT version FROM supabase_migrations.schema_migrations ORDER BY version"]);
    assert!(ok, "{recorded}");
    let recorded: Vec<String> = recorded.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect();
    assert_eq!(recorded, files);
}

#[test]
fn the_schema_enforces_its_constraints() {
    let (ok, text) = stack(&[
        "psql",
        "-c",
        "INSERT INTO competitions (id, name, metric, starts_at, ends_at) \
         VALUES (gen_random_uuid(), 'x', 'steps', now(), now() - interval '1 day')",
    ]);
    assert!(!ok, "ends_at before starts_at must be refused: {text}");
    assert!(text.contains("check constraint"), "{text}");
}

#[test]
fn status_reports_what_runs_on_which_port() {
    let (ok, text) = stack(&["status"]);
    assert!(ok, "{text}");
    assert!(text.contains("postgres:  running"), "{text}");
    assert!(text.contains("redis:     running"), "{text}");
    assert!(text.contains("postgrest: running"), "{text}");
    assert!(text.contains("upstash:   running"), "{text}");
}
