//! Fuzz target: server frames through the SMB1 listing client (mode byte, see
//! `roundtrip::smb_client`); it must never panic, and every request it sends must parse.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nbt_protocol::roundtrip::smb_client(data));
