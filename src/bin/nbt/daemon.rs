//! `nbt daemon`: the local nbtd's state from its control socket: the role and names on each
//! interface address, the election history, the browse-list sizes and the counters, including
//! the input it dropped. Text for people, or `--json`.

use std::path::Path;

use crate::common::{Found, Global, out_text, print_json};

/// Asks the daemon at `control_socket` for its status and prints it.
pub fn run(control_socket: &Path, global: &Global) -> anyhow::Result<Found> {
    let status = nbtd::control::query_status(control_socket)?;
    if global.json {
        print_json(&status)?;
    } else {
        out_text(&nbtd::control::render_status(&status))?;
    }
    Ok(Found::Yes)
}
