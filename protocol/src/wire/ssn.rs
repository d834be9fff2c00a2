//! Session service packets (TCP 139), RFC 1002 §4.3.
