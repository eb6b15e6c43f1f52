//! Writes `docs/openapi.json` from the Worker's route table and handler types (`leaderboard_worker::openapi_doc`).
//! Run it after changing a route or a body: `cargo run -p local --bin openapi`; the Worker's unit tests fail while
//! the committed file is stale. Then regenerate the TypeScript types (`scripts/openapi` does both).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let text = leaderboard_worker::openapi_doc::render();
    match std::fs::write(&path, &text) {
        Ok(()) => {
            println!("wrote {} ({} bytes)", path.display(), text.len());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot write {}: {error}", path.display());
            ExitCode::FAILURE
        }
    }
}
