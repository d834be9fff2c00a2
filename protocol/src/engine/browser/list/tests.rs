use super::*;
use proptest::prelude::*;

fn n(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

fn host(name: &str, periodicity_ms: u32, t: ServerType) -> Announcement {
    Announcement::new(n(name), t, periodicity_ms, b"a comment".to_vec())
}

const WS: ServerType = ServerType::WORKSTATION.union(ServerType::SERVER);
const TWELVE_MIN: u32 = 12 * 60 * 1000;

fn start() -> Instant {
    Instant::now()
}

#[test]
fn announce_refresh_remove_without_regard_to_case() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    let ip = Some(Ipv4Addr::new(198, 18, 0, 1));
    assert_eq!(
        l.server_announced(t0, &n("LABWG"), &host("ALPHA", TWELVE_MIN, WS), ip),
        Update::Added
    );
    assert_eq!(
        l.server_announced(t0, &n("labwg"), &host("alpha", TWELVE_MIN, WS), ip),
        Update::Refreshed
    );
    assert_eq!(l.server_count(), 1);
    let s = l.server(&n("LabWg"), &n("Alpha")).unwrap();
    assert_eq!(s.name, n("alpha"), "the latest spelling is kept");
    assert_eq!(s.addr, ip);
    assert_eq!(&*s.comment, b"a comment");
    let gone = host("ALPHA", 0, ServerType::empty());
    assert_eq!(
        l.server_announced(t0, &n("LABWG"), &gone, ip),
        Update::Removed
    );
    assert_eq!(
        l.server_announced(t0, &n("LABWG"), &gone, ip),
        Update::Unknown
    );
    assert_eq!((l.server_count(), l.workgroup_count()), (0, 0));
    assert_eq!(
        l.next_expiry(),
        Some(t0 + Duration::from_secs(36 * 60)),
        "a stale timer is harmless"
    );
    assert!(l.expire(t0 + Duration::from_secs(36 * 60)).is_empty());
    assert_eq!(l.next_expiry(), None, "an empty list needs no wake-up");
}

#[test]
fn three_missed_announcements_drop_a_server() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    l.server_announced(t0, &n("LABWG"), &host("ALPHA", TWELVE_MIN, WS), None);
    let due = t0 + Duration::from_secs(36 * 60);
    assert_eq!(l.next_expiry(), Some(due));
    assert!(l.expire(due - Duration::from_millis(1)).is_empty());
    assert_eq!(l.server_count(), 1);
    assert_eq!(
        l.expire(due),
        [Expired::Server {
            workgroup: n("LABWG"),
            name: n("ALPHA")
        }]
    );
    assert_eq!(l.server_count(), 0);
}

#[test]
fn periodicity_is_clamped() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    l.server_announced(t0, &n("WG"), &host("TINY", 1, WS), None);
    l.server_announced(t0, &n("WG"), &host("HUGE", u32::MAX, WS), None);
    assert_eq!(
        l.server(&n("WG"), &n("TINY")).unwrap().expires(),
        t0 + 3 * MIN_PERIODICITY
    );
    assert_eq!(
        l.server(&n("WG"), &n("HUGE")).unwrap().expires(),
        t0 + 3 * MAX_PERIODICITY
    );
}

#[test]
fn type_bits_that_never_belong_in_a_list_are_stripped() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    let t = WS | ServerType::LOCAL_LIST_ONLY | ServerType::DOMAIN_ENUM;
    l.server_announced(t0, &n("WG"), &host("A", TWELVE_MIN, t), None);
    assert_eq!(l.server(&n("WG"), &n("A")).unwrap().server_type, WS);
}

#[test]
fn caps_refuse_newcomers_but_keep_refreshing_the_listed() {
    let t0 = start();
    let limits = BrowseLimits {
        max_servers_per_workgroup: 3,
        max_workgroups: 2,
        max_servers_total: 5,
        ..BrowseLimits::default()
    };
    let mut l = BrowseList::new(limits);
    for i in 0..3 {
        assert_eq!(
            l.server_announced(t0, &n("WG1"), &host(&format!("H{i}"), TWELVE_MIN, WS), None),
            Update::Added
        );
    }
    assert_eq!(
        l.server_announced(t0, &n("WG1"), &host("H9", TWELVE_MIN, WS), None),
        Update::Refused
    );
    assert_eq!(
        l.server_announced(t0, &n("WG1"), &host("H0", TWELVE_MIN, WS), None),
        Update::Refreshed
    );
    for i in 0..2 {
        assert_eq!(
            l.server_announced(t0, &n("WG2"), &host(&format!("J{i}"), TWELVE_MIN, WS), None),
            Update::Added
        );
    }
    assert_eq!(
        l.server_announced(t0, &n("WG2"), &host("J7", TWELVE_MIN, WS), None),
        Update::Refused,
        "total cap"
    );
    assert_eq!(
        l.server_announced(t0, &n("WG3"), &host("K", TWELVE_MIN, WS), None),
        Update::Refused
    );
    let dom = Announcement::domain(n("WG3"), n("K"), 15 * 60 * 1000);
    assert_eq!(
        l.workgroup_announced(t0, &dom, None),
        Update::Refused,
        "workgroup cap"
    );
    assert_eq!((l.server_count(), l.workgroup_count()), (5, 2));
}

#[test]
fn workgroups_come_from_domain_announcements() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    let dom = Announcement::domain(n("OTHERWG"), n("MASTER1"), 15 * 60 * 1000);
    assert_eq!(
        l.workgroup_announced(t0, &dom, Some(Ipv4Addr::new(198, 18, 0, 9))),
        Update::Added
    );
    assert_eq!(l.workgroup_announced(t0, &dom, None), Update::Refreshed);
    let w: Vec<_> = l.workgroups().map(|w| (w.name, w.master)).collect();
    assert_eq!(w, [(n("OTHERWG"), n("MASTER1"))]);
    let due = t0 + Duration::from_secs(45 * 60);
    assert!(l.expire(due - Duration::from_secs(1)).is_empty());
    assert_eq!(l.expire(due), [Expired::Workgroup(n("OTHERWG"))]);
}

#[test]
fn expiry_scans_at_most_once_a_second() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    l.server_announced(t0, &n("WG"), &host("A", 60_000, WS), None);
    l.server_announced(
        t0 + Duration::from_millis(10),
        &n("WG"),
        &host("B", 60_000, WS),
        None,
    );
    let first = t0 + Duration::from_secs(180);
    assert_eq!(l.expire(first).len(), 1);
    assert_eq!(l.next_expiry(), Some(first + Duration::from_secs(1)));
    assert_eq!(l.expire(first + Duration::from_secs(1)).len(), 1);
}

#[test]
fn snapshot_and_restore_keep_remaining_lifetimes() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    l.server_announced(
        t0,
        &n("WG"),
        &host("A", TWELVE_MIN, WS),
        Some(Ipv4Addr::new(198, 18, 0, 1)),
    );
    l.workgroup_announced(t0, &Announcement::domain(n("WG"), n("A"), TWELVE_MIN), None);
    let later = t0 + Duration::from_secs(600);
    let snap = l.snapshot(later);
    assert_eq!(snap.len(), 2);
    let mut back = BrowseList::new(BrowseLimits::default());
    let t1 = later + Duration::from_secs(5);
    back.restore(t1, snap.clone());
    let s = back.server(&n("WG"), &n("A")).unwrap();
    assert_eq!(s.expires(), t1 + Duration::from_secs(36 * 60 - 600));
    assert_eq!(s.addr, Some(Ipv4Addr::new(198, 18, 0, 1)));
    assert_eq!(back.snapshot(t1 + Duration::from_secs(0)).len(), 2);
    // Entries that ran out while saved are not restored.
    let mut none = BrowseList::new(BrowseLimits::default());
    let all_gone: Vec<Record> = snap
        .into_iter()
        .map(|r| match r {
            Record::Server {
                workgroup, entry, ..
            } => Record::Server {
                workgroup,
                entry,
                remaining: Duration::ZERO,
            },
            Record::Workgroup {
                name,
                master,
                addr,
                periodicity,
                ..
            } => Record::Workgroup {
                name,
                master,
                addr,
                periodicity,
                remaining: Duration::ZERO,
            },
        })
        .collect();
    none.restore(t1, all_gone);
    assert_eq!((none.server_count(), none.workgroup_count()), (0, 0));
}

#[derive(Debug, Clone)]
enum Op {
    Host(u8, u8, u32, bool),
    Domain(u8, u32, bool),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..6, 0u8..40, any::<u32>(), any::<bool>()).prop_map(|(w, s, p, up)| Op::Host(w, s, p, up)),
        1 => (0u8..6, any::<u32>(), any::<bool>()).prop_map(|(w, p, up)| Op::Domain(w, p, up)),
        2 => (0u32..3_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #[test]
    fn caps_and_counts_hold_under_any_traffic(ops in prop::collection::vec(op(), 0..300)) {
        let limits = BrowseLimits { max_servers_per_workgroup: 7, max_workgroups: 4, max_servers_total: 20, ..BrowseLimits::default() };
        let mut l = BrowseList::new(limits);
        let mut now = start();
        for o in ops {
            match o {
                Op::Host(w, s, p, up) => {
                    let t = if up { WS } else { ServerType::empty() };
                    l.server_announced(now, &n(&format!("WG{w}")), &host(&format!("S{s}"), p, t), None);
                }
                Op::Domain(w, p, up) => {
                    let mut a = Announcement::domain(n(&format!("WG{w}")), n("M"), p);
                    if !up { a.server_type = ServerType::empty(); }
                    l.workgroup_announced(now, &a, None);
                }
                Op::Advance(s) => {
                    now += Duration::from_secs(u64::from(s));
                    l.expire(now);
                }
            }
            prop_assert!(l.server_count() <= limits.max_servers_total);
            prop_assert!(l.workgroup_count() <= limits.max_workgroups);
            let counted: usize = l.groups.values().map(|g| g.servers.len()).sum();
            prop_assert_eq!(counted, l.server_count());
            prop_assert!(l.groups.values().all(|g| g.servers.len() <= limits.max_servers_per_workgroup));
            prop_assert!(l.groups.values().all(|g| g.entry.is_some() || !g.servers.is_empty()));
            // Nothing outlives its expiry by more than the scan granularity.
            if let Some(t) = l.next_expiry() {
                let earliest = l.groups.values()
                    .flat_map(|g| g.servers.values().map(|s| l.base.unwrap().expires(s)).chain(g.entry.iter().map(|e| e.expires())))
                    .min();
                if let Some(e) = earliest { prop_assert!(t <= e.max(t) && t <= e + Duration::from_secs(1)); }
            }
        }
    }
}

#[test]
fn servers_are_counted_per_workgroup_and_new_caps_refuse_newcomers() {
    let t0 = start();
    let mut l = BrowseList::new(BrowseLimits::default());
    l.server_announced(t0, &n("labwg"), &host("ALPHA", TWELVE_MIN, WS), None);
    l.server_announced(t0, &n("LABWG"), &host("BRAVO", TWELVE_MIN, WS), None);
    l.server_announced(t0, &n("Other"), &host("CHARLIE", TWELVE_MIN, WS), None);
    let sizes: Vec<(String, usize)> = l
        .servers_per_workgroup()
        .map(|(w, c)| (String::from_utf8_lossy(w.as_bytes()).into_owned(), c))
        .collect();
    assert_eq!(sizes, [("LABWG".to_owned(), 2), ("OTHER".to_owned(), 1)]);
    l.set_limits(BrowseLimits {
        max_servers_per_workgroup: 2,
        max_workgroups: 256,
        max_servers_total: 16384,
        ..BrowseLimits::default()
    });
    assert_eq!(
        l.server_announced(t0, &n("LABWG"), &host("DELTA", TWELVE_MIN, WS), None),
        Update::Refused
    );
    assert_eq!(l.server_count(), 3, "the listed stay");
}
