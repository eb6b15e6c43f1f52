//! The official clients, unchanged, against the local gateways with the `.dev.vars.example` settings:
//! `@supabase/postgrest-js` and `@upstash/redis` (scripts in `tests/clients/`, run under node).

use std::process::Command;

use e2e::{repo_root, token_with_role, user_token, worker_var};
use uuid::Uuid;

fn node(script: &str, env: &[(&str, String)]) {
    let output = Command::new("node")
        .arg(repo_root().join("tests/clients").join(script))
        .current_dir(repo_root())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run node");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{script} failed:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

#[test]
fn postgrest_js_works_unchanged() {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    node(
        "postgrest-js.mjs",
        &[
            ("SUPABASE_URL", worker_var("SUPABASE_URL")),
            ("SUPABASE_ANON_KEY", worker_var("SUPABASE_ANON_KEY")),
            ("TOKEN_SERVICE", token_with_role(&Uuid::new_v4(), "service_role")),
            ("TOKEN_A", user_token(&alice)),
            ("TOKEN_B", user_token(&bob)),
            ("USER_A", alice.to_string()),
            ("SB_SECRET_KEY", worker_var("LOCAL_SUPABASE_SECRET_KEY")),
            ("SB_PUBLISHABLE_KEY", worker_var("LOCAL_SUPABASE_PUBLISHABLE_KEY")),
        ],
    );
}

#[test]
fn upstash_redis_works_unchanged() {
    node(
        "upstash-redis.mjs",
        &[
            ("UPSTASH_REDIS_REST_URL", worker_var("UPSTASH_REDIS_REST_URL")),
            ("UPSTASH_REDIS_REST_TOKEN", worker_var("UPSTASH_REDIS_REST_TOKEN")),
            ("PREFIX", format!("clients-{}", Uuid::new_v4())),
        ],
    );
}
