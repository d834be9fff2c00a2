//! `nbt`: NetBIOS lookups, node status, scans and browse lists from the command line.

fn main() {
    eprintln!(
        "nbt {}: no subcommands yet; see README.md for the state of the project",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
