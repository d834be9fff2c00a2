//! Fuzz target: frames through the SMB1 listing server after a valid handshake (mode byte,
//! see `roundtrip::smb_server`); it must never panic and every reply must parse.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nbt_protocol::roundtrip::smb_server(data));
