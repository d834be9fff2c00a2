//! Fuzz target: the WINS client driven by its server's answers and raw datagrams keeps its
//! timers, requests and view consistent (see `roundtrip::wins_client`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nbt_protocol::roundtrip::wins_client(std::time::Instant::now(), data)
});
