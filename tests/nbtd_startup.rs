//! nbtd refuses to start, with a status of its own and a message that says what to do, when the
//! name or datagram port is taken (as by Samba's nmbd) or when no interface is usable.

mod nbtd_harness;

use std::net::UdpSocket;

use nbtd_harness::{Scratch, free_ports, port_args, run_captured};

#[test]
fn a_taken_name_port_points_at_nmbd() {
    let dir = Scratch::new("startup-port");
    let ports = free_ports();
    let port = ports.0;
    // What nmbd would hold (it holds 0.0.0.0:137 too; either makes the bind fail).
    let _held = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let mut args = port_args(ports);
    args.extend(["--interfaces".to_owned(), "lo".into()]);
    args.extend(dir.daemon_paths());
    let (status, _, err) = run_captured(&args);
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("UDP {port} on 127.0.0.1 (lo) is in use")),
        "{err}"
    );
    assert!(err.contains("in use, probably by Samba's nmbd"), "{err}");
    assert!(err.contains("systemctl stop nmbd"), "{err}");
    assert!(err.contains("disable netbios = yes"), "{err}");
    assert!(
        !dir.control_socket().exists(),
        "no control socket is left behind"
    );
}

#[test]
fn a_taken_datagram_port_points_at_nmbd() {
    let dir = Scratch::new("startup-dgram-port");
    let ports = free_ports();
    let port = ports.1;
    // nmbd holds UDP 138 as well as 137.
    let _held = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let mut args = port_args(ports);
    args.extend(["--interfaces".to_owned(), "lo".into()]);
    args.extend(dir.daemon_paths());
    let (status, _, err) = run_captured(&args);
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("UDP {port} on 127.0.0.1 (lo) is in use")),
        "{err}"
    );
    assert!(err.contains("probably by Samba's nmbd"), "{err}");
    assert!(err.contains("disable netbios = yes"), "{err}");
    assert!(!dir.control_socket().exists());
    // The name port it had opened first is free again.
    UdpSocket::bind(("127.0.0.1", ports.0)).expect("the name port was let go");
}

#[test]
fn no_usable_interface_lists_each_one_and_how_to_allow_it() {
    let dir = Scratch::new("startup-noif");
    let mut args = port_args(free_ports());
    args.extend(["--interfaces".to_owned(), "nosuchif0".into()]);
    args.extend(dir.daemon_paths());
    let (status, _, err) = run_captured(&args);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("no usable network interface"), "{err}");
    assert!(
        err.contains("lo: not in the allow list"),
        "every interface seen: {err}"
    );
    assert!(
        err.contains("no interface matches \"nosuchif0\" from the allow list"),
        "{err}"
    );
    assert!(err.contains("--interfaces NAME"), "{err}");
    assert!(err.contains("interfaces.allow"), "{err}");
}
