//! Fuzz target: parse, re-emit and re-parse; the two parses must agree.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nbt_protocol::roundtrip::smb(data));
