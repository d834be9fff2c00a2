//! `nbtd`: the NetBIOS name, datagram and session service daemon.

fn main() {
    eprintln!(
        "nbtd {}: the daemon does not serve yet; see README.md for the state of the project",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
