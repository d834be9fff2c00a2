//! Fuzz target: RAP parameter blocks and data blocks re-emit and re-parse to the same values.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nbt_protocol::roundtrip::rap(data));
