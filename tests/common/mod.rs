//! Shared helpers of the end-to-end tests: a LAN of network namespaces with Samba peers
//! ([`netns`]), a scripted name service peer on loopback ([`fake_peer`]), a reader of
//! `smbclient -L`'s tables ([`smbclient`]), abuse and load from inside a LAN and readers of a
//! process's memory and CPU time ([`load`]), and the skip rules.
//!
//! Each test crate uses only part of this module, hence the `dead_code` allowance.

#![allow(dead_code)]

pub mod daemon;
pub mod fake_peer;
pub mod load;
pub mod netns;
pub mod programs;
pub mod smbclient;

/// Whether the tests run under CI (`CI=true`), where a missing prerequisite is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports why a test cannot run: under CI this fails the test, elsewhere it prints the
/// reason and the test returns as passed.
pub fn skip(test: &str, reason: &str) {
    if under_ci() {
        panic!("{test}: prerequisite missing under CI=true: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
}
