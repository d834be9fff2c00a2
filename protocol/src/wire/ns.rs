//! Name service packets (UDP 137), RFC 1002 §4.2.
