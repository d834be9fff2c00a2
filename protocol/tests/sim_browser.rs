//! The browser on a simulated LAN with simulated time and seeded randomness: elections converge
//! to the best candidate, the announcement schedule, expiry after three missed announcements,
//! and failover within 15 s when the master dies.

mod sim;

use std::time::Duration;

use nbt_protocol::engine::Service;
use nbt_protocol::engine::browser::Role;
use nbt_protocol::engine::browser::list::{BrowseLimits, BrowseList};
use nbt_protocol::engine::names::NameState;
use nbt_protocol::name::NetbiosName;
use nbt_protocol::wire::browse::{Announcement, BrowserFrame, ServerName, ServerType};
use nbt_protocol::wire::dgram::Datagram;
use nbt_protocol::wire::ns::{NameServicePacket, PacketKind};
use nbt_protocol::wire::smb::TransactionRequest;
use sim::node::{IFACE, NodeLan, configs, nb};

/// The browser frames on the wire from host address `from`, with their times.
fn frames_from(lan: &NodeLan, from: std::net::Ipv4Addr) -> Vec<(Duration, BrowserFrame)> {
    lan.wire
        .iter()
        .filter(|f| f.service == Service::Datagram && f.from == from)
        .filter_map(|f| {
            let Ok(Datagram::Direct(d)) = Datagram::parse(&f.payload) else {
                return None;
            };
            let t = TransactionRequest::parse(&d.user_data).ok()?;
            Some((f.at - lan.start, BrowserFrame::parse(&t.data).ok()?))
        })
        .collect()
}

/// A LAN of `n` hosts with distinct os levels drawn from `seed`; returns the index of the host
/// whose criteria are best (highest os level, then lowest name since uptimes tie at start).
fn lan_of(n: usize, seed: u64) -> (NodeLan, usize) {
    let mut lan = NodeLan::new(seed);
    let mut rng = nbt_protocol::engine::Rng::new(seed);
    let mut best: Option<(u8, String, usize)> = None;
    for i in 0..n {
        let os = [1u8, 16, 20, 20, 32, 65][rng.range(0, 5) as usize];
        let name = format!("HOST{:02}", rng.range(0, 99));
        let name = format!("{name}X{i}");
        let (nc, bc) = configs(&name, "LABWG", os);
        let h = lan.add(i as u8 + 1, nc, bc, seed.wrapping_mul(1000) + i as u64);
        let better = match &best {
            None => true,
            Some((bo, bn, _)) => os > *bo || (os == *bo && name < *bn),
        };
        if better {
            best = Some((os, name, h));
        }
    }
    (lan, best.unwrap().2)
}

#[test]
fn one_three_and_twenty_hosts_elect_exactly_one_master_the_best() {
    for (n, seeds) in [(1usize, 20u64), (3, 40), (20, 12)] {
        for seed in 0..seeds {
            let (mut lan, best) = lan_of(n, seed);
            lan.keep_wire = false;
            let took =
                lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty());
            assert!(took.is_some(), "n={n} seed={seed}: no master in 2 min");
            // Let any competing elections settle, then there must be exactly one.
            lan.run_for(Duration::from_secs(30));
            assert_eq!(lan.masters("LABWG"), [best], "n={n} seed={seed}");
            for h in 0..n {
                if h != best {
                    assert_ne!(lan.role(h), Role::Master, "n={n} seed={seed} host {h}");
                    let m = lan.hosts[h].node.browser().master(IFACE);
                    assert_eq!(
                        m.map(|m| m.1),
                        Some(lan.hosts[best].addr),
                        "n={n} seed={seed}: host {h} knows the master"
                    );
                }
            }
        }
    }
}

#[test]
fn announcements_follow_one_two_four_eight_then_twelve_minutes() {
    let mut lan = NodeLan::new(1);
    // Two hosts: host 2 (os level 1) stays a potential browser and sends HostAnnouncements.
    let (n1, b1) = configs("ALPHA", "LABWG", 65);
    let (n2, b2) = configs("BRAVO", "LABWG", 1);
    lan.add(1, n1, b1, 1);
    lan.add(2, n2, b2, 2);
    lan.run_for(Duration::from_secs(60 * 60));
    let hosts: Vec<(Duration, u32)> = frames_from(&lan, sim::ip(2))
        .into_iter()
        .filter_map(|(t, f)| match f {
            BrowserFrame::HostAnnouncement(a) => Some((t, a.periodicity_ms)),
            _ => None,
        })
        .collect();
    let min = |m: u64| Duration::from_secs(60 * m);
    // At start; and once more soon after the master's AnnouncementRequest (within 2 s).
    assert_eq!(hosts[0].0, Duration::ZERO);
    let times: Vec<Duration> = hosts.iter().map(|h| h.0).collect();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let schedule: Vec<Duration> = gaps.iter().copied().filter(|g| *g >= min(1)).collect();
    assert_eq!(
        &schedule[..6],
        &[min(1), min(2), min(4), min(8), min(12), min(12)],
        "{times:?}"
    );
    // Each announcement says when the next one comes.
    for (k, w) in hosts.windows(2).enumerate() {
        if w[1].0 - w[0].0 >= min(1) {
            assert_eq!(
                Duration::from_millis(u64::from(w[0].1)),
                w[1].0 - w[0].0,
                "announcement {k}"
            );
        }
    }
    // The master sends LocalMasterAnnouncements on the same schedule.
    let lma: Vec<Duration> = frames_from(&lan, sim::ip(1))
        .into_iter()
        .filter_map(|(t, f)| matches!(f, BrowserFrame::LocalMasterAnnouncement(_)).then_some(t))
        .collect();
    let gaps: Vec<Duration> = lma.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(&gaps[..5], &[min(1), min(2), min(4), min(8), min(12)]);
}

#[test]
fn a_silent_host_is_dropped_after_three_periods_not_before() {
    let mut lan = NodeLan::new(3);
    let (n1, b1) = configs("ALPHA", "LABWG", 65);
    let (n2, b2) = configs("BRAVO", "LABWG", 1);
    let master = lan.add(1, n1, b1, 1);
    let bravo = lan.add(2, n2, b2, 2);
    // Steady state: BRAVO announces every 12 minutes by now.
    lan.run_for(Duration::from_secs(40 * 60));
    let last = frames_from(&lan, sim::ip(2))
        .into_iter()
        .filter_map(|(t, f)| match f {
            BrowserFrame::HostAnnouncement(a) => Some((t, a.periodicity_ms)),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(last.1, 12 * 60 * 1000);
    lan.kill(bravo);
    let listed = |l: &NodeLan| {
        l.hosts[master]
            .node
            .browser()
            .list(IFACE)
            .unwrap()
            .server(
                &ServerName::new("LABWG").unwrap(),
                &ServerName::new("BRAVO").unwrap(),
            )
            .is_some()
    };
    let due = lan.start + last.0 + Duration::from_secs(36 * 60);
    lan.run_until(due - Duration::from_millis(1));
    assert!(listed(&lan), "still listed just before 36 minutes");
    lan.run_until(due + Duration::from_secs(1));
    assert!(
        !listed(&lan),
        "dropped within one expiry scan after 36 minutes"
    );
}

#[test]
fn a_killed_master_is_replaced_within_fifteen_seconds() {
    for seed in 0..30u64 {
        let (mut lan, best) = lan_of(3, seed);
        lan.keep_wire = false;
        lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty())
            .expect("a first master");
        // Kill it at an arbitrary moment of the probe cycle.
        let offset = Duration::from_millis(seed * 97 % 3000);
        lan.run_for(Duration::from_secs(60) + offset);
        assert_eq!(lan.masters("LABWG"), [best]);
        lan.kill(best);
        let took = lan
            .run_until_true(Duration::from_secs(60), |l| l.masters("LABWG").len() == 1)
            .unwrap_or_else(|| panic!("seed {seed}: no new master within 60 s"));
        assert!(
            took <= Duration::from_secs(15),
            "seed {seed}: new master after {took:?}"
        );
        lan.run_for(Duration::from_secs(30));
        assert_eq!(
            lan.masters("LABWG").len(),
            1,
            "seed {seed}: exactly one master afterwards"
        );
    }
}

#[test]
fn a_master_killed_right_after_its_election_is_replaced_within_fifteen_seconds() {
    for seed in 0..30u64 {
        let (mut lan, best) = lan_of(3, seed);
        lan.keep_wire = false;
        lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty())
            .expect("a first master");
        // The others lost the election moments ago and are still in the winner's grace.
        lan.run_for(Duration::from_millis(seed * 97 % 1000));
        assert_eq!(lan.masters("LABWG"), [best]);
        lan.kill(best);
        let took = lan
            .run_until_true(Duration::from_secs(60), |l| l.masters("LABWG").len() == 1)
            .unwrap_or_else(|| panic!("seed {seed}: no new master within 60 s"));
        assert!(
            took <= Duration::from_secs(15),
            "seed {seed}: new master after {took:?}"
        );
    }
}

#[test]
fn a_master_that_stops_gracefully_is_replaced_at_once() {
    let (mut lan, best) = lan_of(3, 7);
    lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty())
        .unwrap();
    lan.run_for(Duration::from_secs(30));
    let now = lan.now;
    lan.hosts[best].node.shutdown(now);
    lan.deliver();
    lan.kill(best);
    let took = lan
        .run_until_true(Duration::from_secs(60), |l| l.masters("LABWG").len() == 1)
        .unwrap();
    assert!(took <= Duration::from_secs(10), "{took:?}");
}

/// A master that stops serving an address which still works (a reload excluded its interface)
/// says goodbye there as at shutdown: it releases every name it held on it, the browser names
/// too, and announces ServerType 0 and a forced election, so a successor takes over at once.
/// An address that is gone gets nothing sent from it.
#[test]
fn a_master_that_stops_serving_a_working_address_releases_its_names_and_is_replaced_at_once() {
    let (mut lan, best) = lan_of(3, 7);
    lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty())
        .unwrap();
    lan.run_for(Duration::from_secs(30));
    assert_eq!(lan.masters("LABWG"), [best]);
    let mut held: Vec<NetbiosName> = lan.hosts[best]
        .node
        .names()
        .names()
        .iter()
        .filter(|n| n.state == NameState::Active)
        .map(|n| n.name)
        .collect();
    held.sort();
    assert!(held.contains(&nb("LABWG", 0x1D)), "{held:?}");
    let from = lan.hosts[best].addr;
    let before = lan.wire.len();
    let now = lan.now;
    lan.hosts[best].node.remove_interface(now, IFACE, true);
    lan.deliver();
    lan.kill(best);

    let sent: Vec<_> = lan.wire[before..]
        .iter()
        .filter(|f| f.from == from)
        .collect();
    let mut released: Vec<NetbiosName> = sent
        .iter()
        .filter(|f| f.service == Service::Name)
        .map(|f| {
            let p = NameServicePacket::parse(&f.payload).unwrap();
            assert_eq!(p.kind(), PacketKind::NameReleaseRequest, "{p:?}");
            p.questions[0].name.name
        })
        .collect();
    released.sort();
    assert_eq!(released, held, "every name held on the address is released");
    let goodbye: Vec<_> = frames_from(&lan, from)
        .into_iter()
        .filter(|(at, _)| *at == now - lan.start)
        .map(|(_, f)| f)
        .collect();
    assert!(
        matches!(&goodbye[..], [
            BrowserFrame::HostAnnouncement(h),
            BrowserFrame::LocalMasterAnnouncement(_),
            BrowserFrame::RequestElection(_),
        ] if h.server_type.is_empty()),
        "{goodbye:#?}"
    );
    let took = lan
        .run_until_true(Duration::from_secs(60), |l| l.masters("LABWG").len() == 1)
        .unwrap();
    assert!(took <= Duration::from_secs(10), "{took:?}");

    // Another host's address disappears: nothing can be sent from it, and nothing is.
    let other = (0..lan.hosts.len()).find(|&h| lan.hosts[h].up).unwrap();
    let before = lan.wire.len();
    let now = lan.now;
    lan.hosts[other].node.remove_interface(now, IFACE, false);
    assert!(lan.hosts[other].node.poll_transmit().is_none());
    lan.deliver();
    assert_eq!(lan.wire.len(), before);
}

#[test]
fn every_browser_lists_every_host_seconds_after_start() {
    let (mut lan, _) = lan_of(3, 11);
    lan.run_for(Duration::from_secs(5));
    for h in 0..3 {
        let list = lan.hosts[h].node.browser().list(IFACE).unwrap();
        let n = list.servers(&ServerName::new("LABWG").unwrap()).count();
        assert_eq!(n, 3, "host {h} lists all three");
    }
}

#[test]
fn a_browser_that_joins_late_lists_the_hosts_already_there_within_seconds() {
    let mut lan = NodeLan::new(21);
    let wg = ServerName::new("LABWG").unwrap();
    for (i, name, os) in [(1u8, "ALPHA", 65u8), (2, "BRAVO", 20)] {
        let (n, b) = configs(name, "LABWG", os);
        lan.add(i, n, b, u64::from(i));
    }
    // Long after their first announcements, and long before their next ones.
    lan.run_for(Duration::from_secs(30));
    assert_eq!(lan.masters("LABWG"), [0]);
    let (n, b) = configs("CHARLIE", "LABWG", 20);
    let late = lan.add(3, n, b, 3);
    lan.run_for(Duration::from_secs(3));
    for h in 0..3 {
        let list = lan.hosts[h].node.browser().list(IFACE).unwrap();
        let names: Vec<_> = list
            .servers(&wg)
            .map(|e| e.name.to_string_lossy())
            .collect();
        assert_eq!(names, ["ALPHA", "BRAVO", "CHARLIE"], "host {h}");
    }
    // It asked once; a host that knows ten or more servers does not ask.
    let asked = |l: &NodeLan, from| {
        frames_from(l, from)
            .iter()
            .filter(|(_, f)| matches!(f, BrowserFrame::AnnouncementRequest(_)))
            .count()
    };
    assert_eq!(asked(&lan, sim::ip(3)), 1);
    assert_eq!(lan.masters("LABWG"), [0], "no new election");
    let _ = late;

    // A host restarting with a saved list of ten servers asks nothing.
    let (n, b) = configs("DELTA", "LABWG", 20);
    let restarted = lan.add(4, n, b, 4);
    let mut saved = BrowseList::new(BrowseLimits::default());
    for k in 0..10 {
        let a = Announcement::new(
            ServerName::new(&format!("SAVED{k}")).unwrap(),
            ServerType::SERVER,
            720_000,
            Vec::new(),
        );
        saved.server_announced(lan.now, &wg, &a, None);
    }
    let records = saved.snapshot(lan.now);
    let now = lan.now;
    let list = lan.hosts[restarted].node.browser_mut().list_mut(IFACE);
    list.unwrap().restore(now, records);
    lan.run_for(Duration::from_secs(3));
    assert_eq!(asked(&lan, sim::ip(4)), 0);
}

#[test]
fn local_master_no_never_stands() {
    let mut lan = NodeLan::new(5);
    let (n1, mut b1) = configs("ALPHA", "LABWG", 255);
    b1.local_master = false;
    let (n2, b2) = configs("BRAVO", "LABWG", 1);
    let a = lan.add(1, n1, b1, 1);
    let b = lan.add(2, n2, b2, 2);
    lan.run_for(Duration::from_secs(120));
    assert_eq!(lan.role(a), Role::NonBrowser);
    assert_eq!(lan.masters("LABWG"), [b]);
}

#[test]
fn the_master_appoints_backups_as_the_workgroup_grows_and_lists_them() {
    // 40 browsers: one backup, plus one per 32 servers: two backups.
    let (mut lan, best) = lan_of(40, 21);
    lan.keep_wire = false;
    lan.run_until_true(Duration::from_secs(120), |l| !l.masters("LABWG").is_empty())
        .unwrap();
    // Appointments go out with the master's announcements; give the schedule a few rounds.
    lan.run_for(Duration::from_secs(8 * 60));
    let backups: Vec<usize> = (0..40).filter(|&h| lan.role(h) == Role::Backup).collect();
    assert_eq!(backups.len(), 2, "{backups:?}");
    assert!(!backups.contains(&best));
    // Each backup asks its driver to copy the master's list, at once and every 15 minutes.
    for &b in &backups {
        let asks: Vec<_> = lan.hosts[b]
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                nbt_protocol::engine::node::Event::Browser(
                    nbt_protocol::engine::browser::BrowserEvent::CopyListFromMaster {
                        master, ..
                    },
                ) => Some((*t, *master)),
                _ => None,
            })
            .collect();
        assert!(!asks.is_empty(), "backup {b} asked nothing");
        assert!(asks.iter().all(|(_, m)| *m == lan.hosts[best].addr));
    }
    // What a backup copies fills in what it did not hear itself.
    let b = backups[0];
    let now = lan.now;
    let copied = [(
        ServerName::new("FARAWAY").unwrap(),
        nbt_protocol::wire::browse::ServerType::SERVER,
        (10, 0),
        b"heard by the master only".to_vec(),
    )];
    let wgs = [(
        ServerName::new("OTHERWG").unwrap(),
        ServerName::new("OTHERMASTER").unwrap(),
    )];
    let added = lan.hosts[b]
        .node
        .browser_mut()
        .list_copied(now, IFACE, &copied, &wgs);
    assert_eq!(added, 2);
    let list = lan.hosts[b].node.browser().list(IFACE).unwrap();
    let wg = ServerName::new("LABWG").unwrap();
    assert_eq!(
        &*list
            .server(&wg, &ServerName::new("FARAWAY").unwrap())
            .unwrap()
            .comment,
        b"heard by the master only"
    );
    assert!(
        list.workgroups()
            .any(|w| w.master == ServerName::new("OTHERMASTER").unwrap())
    );
    // Entries heard directly are not overwritten by the copy.
    let known = list.servers(&wg).next().unwrap().clone();
    let again = [(
        known.name,
        known.server_type,
        (1, 1),
        b"stale copy".to_vec(),
    )];
    assert_eq!(
        lan.hosts[b]
            .node
            .browser_mut()
            .list_copied(now, IFACE, &again, &[]),
        0
    );

    // A client asks the master for its backup list.
    use nbt_protocol::engine::dgram::DatagramLayer;
    use nbt_protocol::engine::{IfaceAddr, IfaceId};
    use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
    use nbt_protocol::wire::Emit;
    use nbt_protocol::wire::browse::{GetBackupListRequest, MAILSLOT_BROWSE};
    let client = IfaceAddr {
        id: IfaceId(9),
        addr: sim::ip(200),
        netmask: sim::NETMASK,
        broadcast: sim::BROADCAST,
        mac: [0; 6],
    };
    let mut layer = DatagramLayer::new(138, Scope::none(), 1);
    let req = BrowserFrame::GetBackupListRequest(GetBackupListRequest {
        requested_count: 4,
        token: 0xfeed,
    });
    let t = layer
        .mailslot(
            &client,
            NetbiosName::new("CLIENT", 0).unwrap(),
            ScopedName::unscoped(NetbiosName::new("LABWG", 0x1D).unwrap()),
            None,
            MAILSLOT_BROWSE,
            req.to_vec().unwrap(),
        )
        .unwrap();
    lan.keep_wire = true;
    let src = std::net::SocketAddrV4::new(sim::ip(200), 138);
    let now = lan.now;
    for h in 0..40 {
        lan.hosts[h]
            .node
            .handle_datagram(now, Service::Datagram, IFACE, src, true, &t.payload);
    }
    lan.deliver();
    let answers: Vec<_> = lan
        .wire
        .iter()
        .filter(|f| f.dst == src)
        .filter_map(|f| {
            let Ok(Datagram::Direct(d)) = Datagram::parse(&f.payload) else {
                return None;
            };
            let t = TransactionRequest::parse(&d.user_data).ok()?;
            Some((
                f.from,
                d.destination_name.name,
                BrowserFrame::parse(&t.data).ok()?,
            ))
        })
        .collect();
    assert_eq!(answers.len(), 1, "only the master answers");
    let (from, dest, frame) = &answers[0];
    assert_eq!(*from, lan.hosts[best].addr);
    assert_eq!(
        *dest,
        NetbiosName::new("CLIENT", 0).unwrap(),
        "to the requester's name"
    );
    let BrowserFrame::GetBackupListResponse(r) = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(r.token, 0xfeed);
    assert_eq!(r.servers.len(), 3, "the master and its two backups");
    let master_name =
        ServerName::from_netbios_name(&lan.hosts[best].node.browser().config().netbios_name)
            .unwrap();
    assert!(r.servers[0].eq_ignore_case(&master_name));
}

#[test]
fn a_master_appoints_a_backup_as_soon_as_potential_browsers_join() {
    let mut lan = NodeLan::new(9);
    let (n1, mut b1) = configs("MASTER", "LABWG", 65);
    b1.preferred_master = true;
    let m = lan.add(1, n1, b1, 1);
    lan.run_until_true(Duration::from_secs(60), |l| l.masters("LABWG") == [m])
        .unwrap();
    lan.run_for(Duration::from_secs(5));
    let (n2, b2) = configs("OTHERONE", "LABWG", 20);
    let (n3, b3) = configs("OTHERTWO", "LABWG", 20);
    lan.add(2, n2, b2, 2);
    lan.add(3, n3, b3, 3);
    let took = lan.run_until_true(Duration::from_secs(30), |l| {
        (1..3).filter(|&h| l.role(h) == Role::Backup).count() == 1
    });
    assert!(
        took.is_some_and(|t| t <= Duration::from_secs(5)),
        "{took:?}"
    );
}

#[test]
fn twenty_hosts_under_twenty_percent_loss_elect_one_master_and_keep_it() {
    let seeds = 50u64;
    let mut fast = 0;
    for seed in 0..seeds {
        let mut lan = NodeLan::new(seed);
        lan.keep_wire = false;
        lan.loss = 0.2;
        for i in 0..20u8 {
            let (nc, bc) = configs(&format!("H{i:02}"), "LABWG", 20);
            lan.add(i + 1, nc, bc, seed * 100 + u64::from(i));
        }
        let took = lan
            .run_until_true(Duration::from_secs(300), |l| l.masters("LABWG").len() == 1)
            .unwrap_or_else(|| panic!("seed {seed}: no single master within 5 minutes"));
        if took <= Duration::from_secs(10) {
            fast += 1;
        }
        lan.run_for(Duration::from_secs(60));
        let master = lan.masters("LABWG");
        assert_eq!(master.len(), 1, "seed {seed}");
        // Once stable, the master stays for an hour of simulated time.
        for minute in 0..60 {
            lan.run_for(Duration::from_secs(60));
            assert_eq!(
                lan.masters("LABWG"),
                master,
                "seed {seed}: change at minute {minute}"
            );
        }
    }
    // At least 97% within 10 s, rounded up.
    assert!(fast * 100 >= seeds * 97, "{fast} of {seeds} within 10 s");
}
