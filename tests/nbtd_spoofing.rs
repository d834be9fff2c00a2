//! Spoofing (issue #7): a name release, a name conflict demand and a ResetStateRequest sent by
//! another host of the LAN make nbtd drop neither its names, nor its browse list, nor its place
//! as the master, and nbtd logs each of them. With `browser.honour_reset_state = true` (taken
//! up by SIGHUP) the same ResetStateRequest makes the master step down and stand again.
//!
//! Needs root and `ip`; without them the test says why and passes, except under `CI=true`.

mod common;

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use common::daemon::{self, Nbtd, WG};
use common::load::{browser_datagram, udp_in};
use common::netns::{BROADCAST, Lan};
use nbtd::control::{BrowserRole, DaemonStatus, ElectionKind, NameStatusState};
use nbtd::protocol::NetbiosName;
use nbtd::protocol::name::ScopedName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{
    Announcement, BrowserFrame, ResetStateType, ServerName, ServerType,
};
use nbtd::protocol::wire::ns::{NameServicePacket, NbAddress};

/// How long a lone nbtd may take to become the master.
const ELECTION: Duration = Duration::from_secs(30);

fn is_master(st: &DaemonStatus) -> bool {
    st.interfaces[0].browser.role == BrowserRole::Master
}

/// The names held, each `NAME<xx>`, sorted; fails unless every one is active.
fn active_names(st: &DaemonStatus) -> Vec<String> {
    let mut names: Vec<String> = st.interfaces[0]
        .names
        .iter()
        .map(|n| {
            assert_eq!(n.state, NameStatusState::Active, "{st:#?}");
            format!("{}<{:02x}>", n.name, n.suffix)
        })
        .collect();
    names.sort();
    names
}

/// Waits until the log holds `line`.
fn wait_for_log(d: &Nbtd, line: &str) {
    let until = Instant::now() + Duration::from_secs(15);
    while !d.log_text().contains(line) {
        assert!(
            Instant::now() < until,
            "no {line:?} in the log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A ResetStateRequest for the workgroup's master, from host 2, asking it to stop being the
/// master and to clear its list.
fn reset_request(lan: &Lan) -> Vec<u8> {
    let frame = BrowserFrame::ResetStateRequest {
        reset_type: ResetStateType::STOP_MASTER | ResetStateType::CLEAR_ALL,
    };
    browser_datagram(
        lan.ip(2),
        "SPOOFER",
        NetbiosName::new(WG, 0x1d).unwrap(),
        &frame,
    )
}

#[test]
fn releases_conflict_demands_and_reset_requests_from_others_change_nothing_unless_allowed() {
    let Some(lan) = Lan::for_test(
        "releases_conflict_demands_and_reset_requests_from_others_change_nothing_unless_allowed",
        2,
        &[],
    ) else {
        return;
    };
    let d = daemon::start(&lan, 1, "VICTIM", Some("[browser]\n"), &[]);
    d.wait_active();
    d.wait_for_status_within(ELECTION, "nbtd did not become master", is_master);

    // A server of the workgroup, so that the list has something to lose.
    let dgram = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 138));
    let legit = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("LEGIT").unwrap(),
        ServerType::SERVER | ServerType::WORKSTATION,
        720_000,
        b"a real server".to_vec(),
    ));
    let hello = browser_datagram(
        lan.ip(2),
        "LEGIT",
        NetbiosName::new(WG, 0x1d).unwrap(),
        &legit,
    );
    dgram.send_to(&hello, (BROADCAST, 138)).unwrap();
    d.wait_for_status("LEGIT was not listed", |_| {
        d.listed(Some(WG)).contains(&"LEGIT".to_owned())
    });
    let before = d.wait_for_status("status", |_| true);
    let names = active_names(&before);
    let servers = before.interfaces[0].browser.servers;

    // The spoofs: a broadcast release and a unicast conflict demand of nbtd's names, and a
    // ResetStateRequest to the master.
    let ns = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 0));
    let victim = |sfx| ScopedName::unscoped(NetbiosName::new("VICTIM", sfx).unwrap());
    let release = NameServicePacket::release_request(
        0x5151,
        victim(0x20),
        NbAddress::b_node(lan.ip(1), false),
        true,
    );
    ns.send_to(&release.to_vec().unwrap(), (BROADCAST, 137))
        .unwrap();
    let demand = NameServicePacket::conflict_demand(
        0x5152,
        victim(0x00),
        NbAddress::b_node(lan.ip(1), false),
    );
    ns.send_to(&demand.to_vec().unwrap(), (lan.ip(1), 137))
        .unwrap();
    dgram
        .send_to(&reset_request(&lan), (lan.ip(1), 138))
        .unwrap();

    // Each is logged ...
    let from = lan.ip(2);
    wait_for_log(
        &d,
        &format!("{from} sent a release of our name VICTIM<20>; kept it"),
    );
    wait_for_log(
        &d,
        &format!("{from} sent a name conflict demand for our name VICTIM<00>; kept it"),
    );
    wait_for_log(&d, &format!("{from} sent a ResetStateRequest; ignored it"));
    // ... and nothing changed.
    let after = d.wait_for_status("status", |_| true);
    assert_eq!(active_names(&after), names, "the names are kept");
    assert!(is_master(&after), "still the master: {after:#?}");
    assert_eq!(
        after.interfaces[0].browser.servers, servers,
        "the list is kept"
    );
    assert!(d.listed(Some(WG)).contains(&"LEGIT".to_owned()));
    let resets = |st: &DaemonStatus| {
        st.interfaces[0]
            .browser
            .elections
            .iter()
            .filter(|e| e.kind == ElectionKind::Started && e.detail == "ResetStateRequest")
            .count()
    };
    assert_eq!(resets(&after), 0, "{after:#?}");

    // Allowed by the configuration, taken up by SIGHUP: the master steps down and stands again.
    std::fs::write(
        lan.dir().join("nbtd1.toml"),
        "[browser]\nhonour_reset_state = true\n",
    )
    .unwrap();
    d.signal("-HUP");
    d.wait_for_status("the reload was not applied", |st| st.reloads.applied == 1);
    dgram
        .send_to(&reset_request(&lan), (lan.ip(1), 138))
        .unwrap();
    let st = d.wait_for_status("the ResetStateRequest was not honoured", |st| {
        resets(st) == 1
    });
    let stepped_down = st.interfaces[0]
        .browser
        .elections
        .iter()
        .any(|e| e.kind == ElectionKind::RoleChanged && e.detail == "potential");
    assert!(stepped_down, "{st:#?}");
    // Alone on its LAN, it wins again.
    d.wait_for_status_within(ELECTION, "nbtd did not become master again", is_master);
}
