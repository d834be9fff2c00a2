//! The listing client against the Samba 4.17 captures: smbd's replies of each `smb1-*` capture
//! are fed to our client in order (each reply's MID set to the one our request carries), and
//! our requests are compared with smbclient's at the same position: the same commands, the
//! same called name and IPC$ path, and RAP parameter blocks identical byte for byte, the
//! NetServerEnum3 continuations included.

mod common;
mod session_support;

use std::collections::VecDeque;

use nbt_protocol::NetbiosName;
use nbt_protocol::engine::session::client::{
    ClientConfig, ClientError, ListingClient, Outcome, Progress, ServerListing,
};
use nbt_protocol::wire::browse::ServerName;
use nbt_protocol::wire::rap::{RapCall, RapRequest};
use nbt_protocol::wire::smb::commands::TreeConnectRequest;
use nbt_protocol::wire::smb::{TransactionRequest, command};
use nbt_protocol::wire::ssn::SessionPacket;
use session_support::{nbss_frames, smb_of};

/// Our client replaying one capture.
struct Replay {
    client: ListingClient,
    /// smbclient's frames, in order.
    theirs: Vec<Vec<u8>>,
    /// smbd's frames not yet fed.
    replies: VecDeque<Vec<u8>>,
    /// Our frames, in order.
    ours: Vec<Vec<u8>>,
}

impl Replay {
    fn start(file: &str) -> Replay {
        let conn = &common::tcp(file)[0];
        let server = conn.server.unwrap().ip().to_string();
        let called = NetbiosName::new(&server, 0x20).unwrap();
        let calling = NetbiosName::new("NBT", 0).unwrap();
        let mut client = ListingClient::new(ClientConfig::new(called, calling, &server));
        let first = client.session_request().unwrap();
        Replay {
            client,
            theirs: nbss_frames(&conn.to_server),
            replies: nbss_frames(&conn.to_client).into(),
            ours: vec![first],
        }
    }

    /// Feeds smbd's replies until the client completes a step.
    fn run(&mut self, first: Option<Vec<u8>>) -> Result<Outcome, ClientError> {
        self.ours.extend(first);
        loop {
            let mut r = self.replies.pop_front().expect("the capture goes on");
            if r[0] == 0 {
                let mid = smb_of(self.ours.last().unwrap()).header.mid;
                r[4 + 30..4 + 32].copy_from_slice(&mid.to_le_bytes());
            }
            match self.client.handle_frame(&r)? {
                Progress::Send(f) => self.ours.push(f),
                Progress::Wait => {}
                Progress::Done(o) => return Ok(o),
            }
        }
    }

    /// smbclient's RAP call at the position of our next request.
    fn their_call(&self) -> RapCall {
        let t = TransactionRequest::parse(&self.theirs[self.ours.len()][4..]).unwrap();
        RapCall::from_request(&RapRequest::parse(&t.parameters).unwrap())
    }

    /// Lists servers as smbclient did at this position.
    fn servers_as_smbclient(&mut self) -> ServerListing {
        let (RapCall::NetServerEnum2(e) | RapCall::NetServerEnum3(e)) = self.their_call() else {
            panic!("not a server enumeration")
        };
        let domain = ServerName::from_bytes(&e.domain.unwrap()).unwrap();
        let f = self.client.list_servers(e.server_type, domain).unwrap();
        match self.run(Some(f)).unwrap() {
            Outcome::Servers(s) => s,
            o => panic!("{o:?}"),
        }
    }

    /// Our requests against smbclient's, position by position; the number of RAP calls compared.
    fn compare(&self) -> usize {
        let mut raps = 0;
        let called = |f: &[u8]| match SessionPacket::parse(f).unwrap() {
            SessionPacket::SessionRequest(r) => r.called_name,
            p => panic!("{p:?}"),
        };
        assert_eq!(called(&self.ours[0]), called(&self.theirs[0]));
        for (i, (ours, theirs)) in self.ours.iter().zip(&self.theirs).enumerate().skip(1) {
            let (o, t) = (smb_of(ours), smb_of(theirs));
            assert_eq!(o.header.command, t.header.command, "request {i}");
            match o.header.command {
                command::TREE_CONNECT_ANDX => assert_eq!(
                    TreeConnectRequest::parse(&o).unwrap().path,
                    TreeConnectRequest::parse(&t).unwrap().path
                ),
                command::TRANSACTION => {
                    let (o, t) = (
                        TransactionRequest::parse(&ours[4..]).unwrap(),
                        TransactionRequest::parse(&theirs[4..]).unwrap(),
                    );
                    assert_eq!(o.name, t.name);
                    assert_eq!(o.parameters, t.parameters, "RAP parameters of request {i}");
                    assert_eq!(
                        (o.max_parameter_count, o.max_data_count),
                        (t.max_parameter_count, t.max_data_count)
                    );
                    raps += 1;
                }
                _ => {}
            }
        }
        raps
    }
}

fn names(s: &ServerListing) -> Vec<String> {
    s.servers.iter().map(|e| e.name.to_string_lossy()).collect()
}

#[test]
fn netserverenum2_as_smbclient() {
    let mut r = Replay::start("smb1-netserverenum2.pcapng");
    assert_eq!(r.run(None), Ok(Outcome::Connected));
    let info = r.client.server_info().clone();
    assert_eq!(
        (info.server_name.as_str(), info.domain_name.as_str()),
        ("BRAVO", "LABWG")
    );
    assert_eq!(info.primary_domain, "LABWG");
    assert!(info.native_lanman.starts_with("Samba 4.17"));

    let all = r.servers_as_smbclient();
    assert_eq!(names(&all), ["ALPHA", "BRAVO", "CHARLIE"]);
    assert_eq!(all.servers[0].comment, b"lab host nb1");
    assert_eq!(all.servers[1].server_type.bits(), 0x0084_9a03);
    assert_eq!((all.rounds, all.incomplete), (1, None));
    let wgs = r.servers_as_smbclient();
    assert_eq!(names(&wgs), ["LABWG"]);
    assert_eq!(wgs.servers[0].comment, b"BRAVO", "the workgroup's master");

    // TREE_DISCONNECT is answered; smbclient closed there, we go on with LOGOFF_ANDX.
    let f = r.client.disconnect().unwrap();
    r.ours.push(f);
    let tdis = r.replies.pop_front().unwrap();
    let mut tdis = tdis.clone();
    let mid = smb_of(r.ours.last().unwrap()).header.mid;
    tdis[4 + 30..4 + 32].copy_from_slice(&mid.to_le_bytes());
    let Ok(Progress::Send(logoff)) = r.client.handle_frame(&tdis) else {
        panic!()
    };
    assert_eq!(smb_of(&logoff).header.command, command::LOGOFF_ANDX);
    assert_eq!(r.compare(), 2);
}

#[test]
fn netserverenum3_continuation_as_smbclient() {
    let mut r = Replay::start("smb1-netserverenum3-continuation.pcapng");
    assert_eq!(r.run(None), Ok(Outcome::Connected));
    let all = r.servers_as_smbclient();
    // 1640 entries, then three NetServerEnum3 calls from the last name (1598 + 1598 + 170,
    // each repeating that name): 5003 servers, each once, in smbd's order. smbd's replies
    // come in two TRANSACTION pieces each.
    assert_eq!(all.servers.len(), 5003);
    assert_eq!((all.rounds, all.incomplete), (4, None));
    let n = names(&all);
    let mut sorted = n.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5003, "no name twice");
    assert!(n.contains(&"ALPHA".to_owned()));
    let wgs = r.servers_as_smbclient();
    assert_eq!(names(&wgs), ["LABWG"]);
    assert_eq!(wgs.servers[0].comment, b"ALPHA");
    assert_eq!(r.compare(), 5);
    assert_eq!(
        r.ours.len(),
        9,
        "session request, 3 handshake requests, 5 RAP calls"
    );
}

#[test]
fn extended_security_only_is_refused_plainly() {
    // The SPNEGO capture: smbd answers extended security to a client that asked for it; our
    // client reads that as a server it cannot log on to, and says so.
    let mut r = Replay::start("smb1-netserverenum2-emptydomain.pcapng");
    let e = r.run(None).unwrap_err();
    assert_eq!(e, ClientError::ExtendedSecurity);
    assert!(r.client.is_closed());
}
