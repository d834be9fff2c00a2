//! The driver over real TCP on loopback: against our own listing server (the protocol crate's
//! `SmbListingServer` behind a small accept loop), and against peers that refuse, stall, close
//! or lie about frame lengths.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::protocol::engine::browser::list::{BrowseLimits, BrowseList};
use crate::protocol::engine::session::{
    BrowseListing, Connection, LocalServer, SessionConfig, Share, SmbListingServer,
};
use crate::protocol::engine::{Instant as EngineInstant, Rng};
use crate::protocol::wire::browse::Announcement;
use crate::protocol::wire::rap::records::share_type;
use crate::protocol::wire::ssn::{SessionHeader, SessionPacket};
use tokio::net::TcpListener;

use super::*;

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(5);

fn sname(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

/// BRAVO of LABWG, with `n` other servers in its browse list.
fn lab(n: usize) -> (LocalServer, BrowseList) {
    let mut list = BrowseList::new(BrowseLimits {
        max_servers_per_workgroup: 10_000,
        max_workgroups: 16,
        max_servers_total: 10_000,
        ..BrowseLimits::default()
    });
    let now = EngineInstant::now();
    for i in 0..n {
        let a = Announcement::new(
            sname(&format!("H{i:05}")),
            ServerType::SERVER | ServerType::WORKSTATION,
            720_000,
            format!("host {i}").into_bytes(),
        );
        list.server_announced(now, &sname("LABWG"), &a, None);
    }
    list.workgroup_announced(
        now,
        &Announcement::domain(sname("LABWG"), sname("BRAVO"), 720_000),
        None,
    );
    let local = LocalServer {
        names: vec![NetbiosName::new("BRAVO", 0x20).unwrap()],
        workgroup: sname("LABWG"),
        name: sname("BRAVO"),
        server_type: ServerType::SERVER | ServerType::MASTER_BROWSER,
        version: (4, 9),
        comment: b"the master".to_vec(),
        shares: vec![Share {
            name: "pub".into(),
            share_type: share_type::DISKTREE,
            comment: "guest share".into(),
        }],
        workgroup_master: Some(sname("BRAVO")),
    };
    (local, list)
}

/// Reads one NBSS frame, or `None` at the end of the stream.
async fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).await.ok()?;
    let len = SessionHeader::parse(&h).ok()?.frame_len();
    let mut f = vec![0u8; len];
    f[..4].copy_from_slice(&h);
    s.read_exact(&mut f[4..]).await.ok()?;
    Some(f)
}

async fn listener() -> (TcpListener, SocketAddrV4) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let std::net::SocketAddr::V4(a) = l.local_addr().unwrap() else {
        unreachable!()
    };
    (l, a)
}

/// Our listing server on loopback; counts connections.
async fn listing_peer(n: usize) -> (SocketAddrV4, Arc<AtomicUsize>) {
    let (l, addr) = listener().await;
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        let (local, list) = lab(n);
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            c.fetch_add(1, Ordering::SeqCst);
            let conn = Connection {
                local_addr: Ipv4Addr::LOCALHOST,
                system_time: 0,
                time_zone: 0,
            };
            let config = SessionConfig {
                max_frame_len: 65_535 + 4,
                ..SessionConfig::default()
            };
            let mut server = SmbListingServer::new(config, conn, Rng::new(3));
            let src = BrowseListing {
                local: &local,
                list: Some(&list),
            };
            while let Some(f) = read_frame(&mut s).await {
                // A strict server: NOTBRAVO is not its name (ours accepts any, as smbd).
                if let Ok(SessionPacket::SessionRequest(req)) = SessionPacket::parse(&f) {
                    if req.called_name.name.base() == b"NOTBRAVO" {
                        s.write_all(&[0x83, 0, 0, 1, 0x82]).await.unwrap();
                        break;
                    }
                }
                let r = server.handle_frame(&f, &src);
                for out in &r.frames {
                    s.write_all(out).await.unwrap();
                }
                if r.close.is_some() {
                    break;
                }
            }
        }
    });
    (addr, count)
}

/// What a scripted peer does with each connection.
#[derive(Clone)]
enum Script {
    /// Reads everything, answers nothing.
    Silent,
    /// Answers the session request positively, then closes after reading the next frame.
    CloseAfterNegotiate,
    /// Answers the first frame with these bytes, then reads on.
    Answer(Vec<u8>),
}

async fn scripted_peer(script: Script) -> SocketAddrV4 {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let script = script.clone();
            tokio::spawn(async move {
                match script {
                    Script::Silent => while read_frame(&mut s).await.is_some() {},
                    Script::CloseAfterNegotiate => {
                        read_frame(&mut s).await;
                        s.write_all(&[0x82, 0, 0, 0]).await.unwrap();
                        read_frame(&mut s).await;
                    }
                    Script::Answer(bytes) => {
                        read_frame(&mut s).await;
                        let _ = s.write_all(&bytes).await;
                        while read_frame(&mut s).await.is_some() {}
                    }
                }
            });
        }
    });
    addr
}

fn target(addr: SocketAddrV4, name: Option<&str>) -> Target {
    Target {
        addr,
        name: name.map(str::to_owned),
        label: addr.ip().to_string(),
    }
}

#[tokio::test]
async fn lists_over_tcp_from_our_listing_server() {
    let (addr, connections) = listing_peer(3).await;
    let mut s = Session::open(&target(addr, Some("BRAVO")), LONG, false)
        .await
        .unwrap();
    assert_eq!(s.info().primary_domain, "LABWG");
    let shares = s.shares().await.unwrap();
    let names: Vec<String> = shares
        .shares
        .iter()
        .map(|s| rap_text(s.name.as_bytes()))
        .collect();
    assert_eq!(names, ["pub", "IPC$"]);
    assert_eq!(share_type_text(shares.shares[1].share_type), "IPC");
    let servers = s.servers(ServerType::ALL, sname("LABWG")).await.unwrap();
    assert_eq!(servers.servers.len(), 4);
    assert_eq!(rap_text(&servers.servers[0].comment), "the master");
    let wgs = s
        .servers(ServerType::DOMAIN_ENUM, ServerName::EMPTY)
        .await
        .unwrap();
    assert_eq!(rap_text(&wgs.servers[0].comment), "BRAVO");
    s.close().await;
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn five_thousand_servers_over_tcp() {
    let (addr, _) = listing_peer(5000).await;
    let mut s = Session::open(&target(addr, None), LONG, false)
        .await
        .unwrap();
    let all = s.servers(ServerType::ALL, sname("LABWG")).await.unwrap();
    assert_eq!(all.servers.len(), 5001);
    assert_eq!(all.incomplete, None);
    assert!(all.rounds > 1, "continued with NetServerEnum3");
    s.close().await;
}

#[tokio::test]
async fn refused_called_name_is_retried_as_smbserver() {
    let (addr, connections) = listing_peer(0).await;
    let s = Session::open(&target(addr, Some("NOTBRAVO")), LONG, false)
        .await
        .unwrap();
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "a second connection, calling *SMBSERVER"
    );
    s.close().await;
}

#[tokio::test]
async fn failures_say_what_to_do() {
    // Nothing listens.
    let (l, addr) = listener().await;
    drop(l);
    let e = Session::open(&target(addr, None), LONG, false)
        .await
        .err()
        .unwrap();
    assert!(matches!(e, SmbError::Refused(_)), "{e:?}");
    assert!(!e.is_refusal(), "an error, not a refusal by the server");
    assert_eq!(
        e.message(),
        format!(
            "nothing listens on TCP {} at 127.0.0.1: is it an SMB1 server with NetBIOS enabled?",
            addr.port()
        )
    );

    // Silence: the timeout bounds the wait.
    let addr = scripted_peer(Script::Silent).await;
    let started = Instant::now();
    let e = Session::open(&target(addr, None), SHORT, false)
        .await
        .err()
        .unwrap();
    assert!(started.elapsed() < LONG);
    assert!(
        e.message()
            .starts_with("127.0.0.1 sent no session response within 300 ms"),
        "{}",
        e.message()
    );

    // Closed after our NEGOTIATE: an SMB2-only server.
    let addr = scripted_peer(Script::CloseAfterNegotiate).await;
    let e = Session::open(&target(addr, None), LONG, false)
        .await
        .err()
        .unwrap();
    assert!(
        e.message().contains("SMB2 or later only"),
        "{}",
        e.message()
    );

    // A frame header announcing 128 KiB: refused from the header, nothing allocated for it.
    let addr = scripted_peer(Script::Answer(vec![0x82, 0, 0, 0, 0, 1, 0xFF, 0xFF])).await;
    let e = Session::open(&target(addr, None), LONG, false)
        .await
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("a frame of 131075 bytes, over the limit of 65539"),
        "{}",
        e.message()
    );

    // Negative session responses to both names: a refusal.
    let addr = scripted_peer(Script::Answer(vec![0x83, 0, 0, 1, 0x82])).await;
    let e = Session::open(&target(addr, Some("ALPHA")), LONG, false)
        .await
        .err()
        .unwrap();
    assert!(e.is_refusal());
    assert_eq!(
        e.message(),
        "127.0.0.1 refused the NetBIOS session for ALPHA<20> and for *SMBSERVER<20> (called \
         name not present (0x82)); give the host's NetBIOS name (nbt status 127.0.0.1 lists it)"
    );
}

#[test]
fn refusals_of_anonymous_access_say_what_to_do() {
    use crate::protocol::engine::session::client::SmbStatus;
    use crate::protocol::wire::smb::commands::ntstatus;
    let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 139);
    let e = SmbError::Protocol(
        addr,
        ClientError::Status {
            what: "the anonymous session setup",
            status: SmbStatus::Nt(ntstatus::ACCESS_DENIED),
        },
    );
    assert!(e.is_refusal());
    assert_eq!(
        e.message(),
        "10.0.0.9 refused anonymous access: the anonymous session setup failed: \
         STATUS_ACCESS_DENIED (0xc0000022); the server does not let guests list (Samba: map to \
         guest = bad user, restrict anonymous = 0)"
    );
    let e = SmbError::Protocol(addr, ClientError::Smb2);
    assert!(!e.is_refusal());
    assert!(
        e.message().contains("speaks SMB2 or later only"),
        "{}",
        e.message()
    );
}

#[test]
fn texts() {
    assert_eq!(share_type_text(0), "Disk");
    assert_eq!(share_type_text(1), "Printer");
    assert_eq!(share_type_text(2), "Device");
    assert_eq!(share_type_text(3), "IPC");
    assert_eq!(share_type_text(7), "Unknown");
    assert_eq!(rap_text(b"caf\xc3\xa9"), "café");
    assert_eq!(rap_text(b"caf\xe9"), "café");
}
