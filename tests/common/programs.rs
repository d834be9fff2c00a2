//! Finding the programs the tests run. A root shell's PATH may leave out the sbin directories
//! (CI machines do), where `ip`, `nmbd`, `smbd`, `nft` and `sysctl` live; `ip netns exec` looks
//! a bare name up in PATH only, so the harness runs every program by its full path.
//!
//! Shared by `tests/common` and `tests/nbtd_harness` (included there by `#[path]`).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Directories searched after PATH.
const SYSTEM_DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Where `name` is installed: PATH first, then the system directories.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .chain(SYSTEM_DIRS)
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// `program` to run: a bare name becomes its full path where it is installed; a path, or a
/// name found nowhere (its spawn error then names it), is left as it is.
pub fn resolve(program: impl AsRef<OsStr>) -> OsString {
    let p = program.as_ref();
    match p.to_str() {
        Some(name) if !name.contains('/') => find_program(name)
            .map(PathBuf::into_os_string)
            .unwrap_or_else(|| p.to_owned()),
        _ => p.to_owned(),
    }
}
