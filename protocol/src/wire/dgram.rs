//! Datagram service packets (UDP 138), RFC 1002 §4.4.
