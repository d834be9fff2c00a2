//! Fuzz target: a request the fast path's answer table answers gets exactly the engine's answer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nbt_protocol::roundtrip::fast_answers(std::time::Instant::now(), data)
});
