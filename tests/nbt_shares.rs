//! `nbt shares` on a LAN of network namespaces against Samba's smbd: the shares
//! `smbclient -L` lists, by address and by NetBIOS name; a host with nothing on TCP 139, and
//! an SMB2-only smbd, fail with a hint. And on loopback (no root) against our own listing
//! server and a refusing peer: the output forms and the exit statuses.
//!
//! The namespace test needs root, `ip`, `nmbd`, `smbd`, `smbclient` and `nmblookup`; without
//! them it says why and passes, except under `CI=true`, where it fails.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::Duration;

use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::Rng;
use nbtd::protocol::engine::session::{
    BrowseListing, Connection, LocalServer, SessionConfig, Share, SmbListingServer,
};
use nbtd::protocol::wire::browse::{ServerName, ServerType};
use nbtd::protocol::wire::rap::records::share_type;
use nbtd::protocol::wire::ssn::SessionHeader;

use common::netns::{Lan, NmbdConfig, share_comment};
use common::smbclient;

fn nbt(lan: &Lan, i: usize, args: &[&str]) -> (i32, String, String) {
    lan.nbt(i, args)
}

type ShareRow = (String, String, String);

fn shares_of(json: &str) -> BTreeSet<ShareRow> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["type"].as_str().unwrap().to_owned(),
                s["comment"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn nbt_shares_lists_what_smbclient_lists() {
    let test = "nbt_shares_lists_what_smbclient_lists";
    let Some(lan) = Lan::for_test(test, 3, &["nmbd", "smbd", "smbclient", "nmblookup"]) else {
        return;
    };
    let alpha = NmbdConfig::new("LABWG", "ALPHA");
    lan.start_nmbd(1, &alpha);
    lan.start_smbd(1, &alpha);
    // An smbd that speaks SMB2 and later only.
    let bravo = NmbdConfig::new("LABWG", "BRAVO").option("server min protocol = SMB2_02");
    lan.start_smbd(3, &bravo);
    for i in [1, 3] {
        lan.wait_for_listener(i, 139, Duration::from_secs(30))
            .unwrap();
    }

    let (out, theirs) = smbclient::list(&lan, 2, "198.18.0.1", &[]);
    assert!(
        out.status.success(),
        "smbclient -L failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: BTreeSet<ShareRow> = theirs.shares.into_iter().collect();
    assert!(
        theirs.contains(&("pub".into(), "Disk".into(), share_comment("ALPHA"))),
        "{theirs:?}"
    );
    assert!(theirs.iter().any(|s| s.0 == "IPC$" && s.1 == "IPC"));

    // By address: the same names, types and comments.
    let (code, out, err) = nbt(&lan, 2, &["shares", "198.18.0.1", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(shares_of(&out), theirs);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["server"], "ALPHA");
    assert_eq!(v["workgroup"], "LABWG");
    assert_eq!(v["incomplete"], serde_json::Value::Null);

    // As a table.
    let (code, out, err) = nbt(&lan, 2, &["shares", "198.18.0.1"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines
            .next()
            .map(str::split_whitespace)
            .map(Iterator::collect),
        Some(vec!["NAME", "TYPE", "COMMENT"])
    );
    assert!(
        lines.any(|l| l.starts_with("pub ") && l.contains("Disk") && l.ends_with("on ALPHA")),
        "{out}"
    );
    assert!(
        err.contains("shares on ALPHA (198.18.0.1, workgroup LABWG)"),
        "{err}"
    );

    // By name, resolved by broadcast, called by its name.
    lan.wait_for_name(2, "ALPHA", 1, Duration::from_secs(30))
        .unwrap();
    let (code, out, err) = nbt(&lan, 2, &["shares", "ALPHA", "--json", "-v"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(shares_of(&out), theirs);
    assert!(err.contains("session with ALPHA<20>"), "{err}");

    // Nothing listens on TCP 139 at host 2: exit 2 with the hint.
    let (code, _, err) = nbt(&lan, 1, &["shares", "198.18.0.2", "--timeout", "3s"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "nothing listens on TCP 139 at 198.18.0.2: is it an SMB1 server with NetBIOS enabled?"
        ),
        "{err}"
    );

    // An SMB2-only server: exit 2, saying so.
    let (code, _, err) = nbt(&lan, 2, &["shares", "198.18.0.3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SMB2"), "{err}");
}

#[test]
fn smbclient_tables_are_read() {
    let text = "\n\tSharename       Type      Comment\n\t---------       ----      -------\n\
                \tpub             Disk      nbtd test share on ALPHA\n\
                \tIPC$            IPC       IPC Service (nbtd  test host)\n\
                Reconnecting with SMB1 for workgroup listing.\n\n\
                \tServer               Comment\n\t---------            -------\n\
                \tALPHA                nbtd test host\n\tBRAVO                \n\n\
                \tWorkgroup            Master\n\t---------            -------\n\
                \tLABWG                ALPHA\n";
    let l = smbclient::parse(text);
    assert_eq!(
        l.shares,
        [
            (
                "pub".into(),
                "Disk".into(),
                "nbtd test share on ALPHA".into()
            ),
            (
                "IPC$".into(),
                "IPC".into(),
                "IPC Service (nbtd  test host)".into()
            ),
        ]
    );
    assert_eq!(
        l.servers,
        [
            ("ALPHA".into(), "nbtd test host".into()),
            ("BRAVO".into(), String::new())
        ]
    );
    assert_eq!(l.workgroups, [("LABWG".into(), "ALPHA".into())]);
}

// ---------------------------------------------------------------------------------------------
// Loopback.

fn nbt_here(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_nbt"))
        .args(args)
        .output()
        .expect("run nbt");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let len = SessionHeader::parse(&h).ok()?.frame_len();
    let mut f = vec![0u8; len];
    f[..4].copy_from_slice(&h);
    s.read_exact(&mut f[4..]).ok()?;
    Some(f)
}

/// A loopback peer serving `connections` connections, one after the other, with `serve`; its
/// port.
fn peer(connections: usize, serve: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((s, _)) = l.accept() else { return };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            serve(s);
        }
    });
    port
}

/// Our listing server: BRAVO of LABWG with a disk share and a printer.
fn listing(mut s: TcpStream) {
    let local = LocalServer {
        names: vec![NetbiosName::new("BRAVO", 0x20).unwrap()],
        workgroup: ServerName::new("LABWG").unwrap(),
        name: ServerName::new("BRAVO").unwrap(),
        server_type: ServerType::SERVER,
        version: (4, 9),
        comment: b"loopback".to_vec(),
        shares: vec![
            Share {
                name: "pub".into(),
                share_type: share_type::DISKTREE,
                comment: "a  guest share".into(),
            },
            Share {
                name: "lp".into(),
                share_type: share_type::PRINTQ,
                comment: String::new(),
            },
        ],
        workgroup_master: None,
    };
    let conn = Connection {
        local_addr: Ipv4Addr::LOCALHOST,
        system_time: 0,
        time_zone: 0,
    };
    let mut server = SmbListingServer::new(SessionConfig::default(), conn, Rng::new(5));
    let src = BrowseListing {
        local: &local,
        list: None,
    };
    while let Some(f) = read_frame(&mut s) {
        let r = server.handle_frame(&f, &src);
        for out in &r.frames {
            s.write_all(out).unwrap();
        }
        if r.close.is_some() {
            return;
        }
    }
}

/// Answers every session request with "called name not present".
fn refusing(mut s: TcpStream) {
    if read_frame(&mut s).is_some() {
        let _ = s.write_all(&[0x83, 0, 0, 1, 0x82]);
    }
}

#[test]
fn nbt_shares_on_loopback() {
    let port = peer(2, listing);
    let (code, out, err) = nbt_here(&["shares", "127.0.0.1", "--session-port", &port.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "NAME  TYPE     COMMENT\n\
         pub   Disk     a  guest share\n\
         lp    Printer\n\
         IPC$  IPC      IPC Service (loopback)\n"
    );
    assert_eq!(err, "nbt: 3 shares on BRAVO (127.0.0.1, workgroup LABWG)\n");
    let (code, out, err) = nbt_here(&[
        "shares",
        "127.0.0.1",
        "--session-port",
        &port.to_string(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["host"], "127.0.0.1");
    assert_eq!(v["server"], "BRAVO");
    assert_eq!(v["shares"][1]["type"], "Printer");
    assert_eq!(v["shares"][1]["type_code"], 1);
    assert_eq!(v["shares"][2]["name"], "IPC$");

    // Refused for the address and for *SMBSERVER: exit 1.
    let port = peer(2, refusing);
    let (code, out, err) = nbt_here(&["shares", "127.0.0.1", "--session-port", &port.to_string()]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("refused the NetBIOS session for 127.0.0.1<20> and for *SMBSERVER<20>"),
        "{err}"
    );

    // Nothing listens: exit 2, with the hint.
    let port = {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, _, err) = nbt_here(&["shares", "127.0.0.1", "--session-port", &port.to_string()]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "nbt: nothing listens on TCP {port} at 127.0.0.1: is it an SMB1 server with NetBIOS \
             enabled?\n"
        )
    );
}
