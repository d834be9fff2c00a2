//! How browsers watch the master when packets go missing (issue #7, elections under loss):
//! - a master that does not answer one round of probes, but answers the second look right
//!   after, is not replaced: nobody starts an election;
//! - a master that wins an election it already held announces itself at once, so that the
//!   browsers that lost know it again within moments, not after the 30 s wait for a winner.

mod sim;

use std::time::Duration;

use nbt_protocol::engine::browser::BrowserEvent;
use nbt_protocol::engine::dgram::DatagramLayer;
use nbt_protocol::engine::names::NameEvent;
use nbt_protocol::engine::node::Event;
use nbt_protocol::engine::{IfaceAddr, IfaceId, Service};
use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::browse::{
    BrowserFrame, ElectionCriteria, ElectionDesire, MAILSLOT_BROWSE, RequestElection, ServerName,
};
use sim::node::{IFACE, NodeLan, configs};
use sim::{BROADCAST, NETMASK, ip};

/// Five hosts (H0 best), settled with one master; returns it.
fn settled(seed: u64) -> (NodeLan, usize) {
    let mut lan = NodeLan::new(seed);
    for i in 0..5u8 {
        let (nc, bc) = configs(&format!("H{i}"), "LABWG", 20);
        lan.add(i + 1, nc, bc, seed * 10 + u64::from(i));
    }
    lan.run_until_true(Duration::from_secs(120), |l| l.masters("LABWG").len() == 1)
        .expect("a master");
    lan.run_for(Duration::from_secs(60));
    let m = lan.masters("LABWG");
    assert_eq!(m.len(), 1);
    (lan, m[0])
}

fn elections_started(lan: &NodeLan) -> Vec<(usize, &'static str)> {
    let mut v = Vec::new();
    for (h, host) in lan.hosts.iter().enumerate() {
        for (_, e) in &host.events {
            if let Event::Browser(BrowserEvent::ElectionStarted { reason, .. }) = e {
                v.push((h, *reason));
            }
        }
    }
    v
}

#[test]
fn a_master_silent_for_one_probe_round_is_not_replaced() {
    for seed in 0..10u64 {
        let (mut lan, master) = settled(seed);
        // The browsers probe in step here. Right after a probe is answered, wait for the next
        // one and silence the master for 1.2 s from just before it: that round's three tries
        // (0, 250 and 500 ms) go unanswered, while the second look's last try, 1.25 s after the
        // round started, comes after the silence.
        for _ in 0..3 {
            for h in &mut lan.hosts {
                h.events.clear();
            }
            lan.run_until_true(Duration::from_secs(10), |l| {
                l.hosts.iter().any(|h| {
                    h.events
                        .iter()
                        .any(|(_, e)| matches!(e, Event::Name(NameEvent::QueryResult { .. })))
                })
            })
            .expect("the browsers probe the master");
            lan.run_for(Duration::from_millis(2990));
            lan.hosts[master].up = false;
            lan.run_for(Duration::from_millis(1200));
            lan.hosts[master].up = true;
            lan.run_for(Duration::from_secs(2));
            assert_eq!(
                elections_started(&lan),
                [],
                "seed {seed}: a short silence of the master started an election"
            );
        }
        lan.run_for(Duration::from_secs(10));
        assert_eq!(
            elections_started(&lan),
            [],
            "seed {seed}: a short silence of the master started an election"
        );
        assert_eq!(lan.masters("LABWG"), [master], "seed {seed}");
    }
}

#[test]
fn a_master_that_wins_an_election_it_held_announces_itself_at_once() {
    for seed in 0..10u64 {
        let (mut lan, master) = settled(seed);
        // An inferior ballot from outside: the browsers that beat it stand, then lose to the
        // master, which stands too and wins again.
        let iface = IfaceAddr {
            id: IfaceId(1),
            addr: ip(200),
            netmask: NETMASK,
            broadcast: BROADCAST,
            mac: [0; 6],
        };
        let ballot = BrowserFrame::RequestElection(RequestElection::new(
            ElectionCriteria::new(1, ElectionDesire::STANDBY),
            0,
            ServerName::new("LOSER").unwrap(),
        ));
        let bytes = DatagramLayer::new(138, Scope::none(), 1)
            .mailslot(
                &iface,
                NetbiosName::new("LOSER", 0).unwrap(),
                ScopedName::unscoped(NetbiosName::new("LABWG", 0x1e).unwrap()),
                None,
                MAILSLOT_BROWSE,
                ballot.to_vec().unwrap(),
            )
            .unwrap()
            .payload;
        for h in &mut lan.hosts {
            h.events.clear();
        }
        let now = lan.now;
        for h in 0..lan.hosts.len() {
            lan.hosts[h].node.handle_datagram(
                now,
                Service::Datagram,
                IFACE,
                std::net::SocketAddrV4::new(ip(200), 138),
                true,
                &bytes,
            );
        }
        let won = lan
            .run_until_true(Duration::from_secs(20), |l| {
                l.hosts[master]
                    .events
                    .iter()
                    .any(|(_, e)| matches!(e, Event::Browser(BrowserEvent::ElectionWon { .. })))
            })
            .unwrap_or_else(|| panic!("seed {seed}: the master did not win again"));
        let lost = (0..lan.hosts.len())
            .filter(|&h| {
                lan.hosts[h]
                    .events
                    .iter()
                    .any(|(_, e)| matches!(e, Event::Browser(BrowserEvent::ElectionLost { .. })))
            })
            .count();
        assert!(lost > 0, "seed {seed}: some browser stood and lost");
        lan.run_for(Duration::from_millis(100));
        let addr = lan.hosts[master].addr;
        for h in 0..lan.hosts.len() {
            assert_eq!(
                lan.hosts[h].node.browser().master(IFACE).map(|m| m.1),
                Some(addr),
                "seed {seed}: host {h} does not know the master 100 ms after it won again \
                 ({won:?} after the ballot)"
            );
        }
        assert_eq!(lan.masters("LABWG"), [master]);
    }
}
