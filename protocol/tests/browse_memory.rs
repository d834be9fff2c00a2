//! The memory a browse list takes per server, counted exactly: every byte allocated while
//! 10,000 servers are announced, with a counting allocator, divided by 10,000. It includes the
//! entry, its key, the map's nodes and the comment. The bound is 200 bytes an entry
//! (Samba's nmbd takes about 800).
//!
//! Run with `--nocapture` to see the figure (contrib/bench/run.sh reports it).

mod counting;

use std::time::{Duration, Instant};

use nbt_protocol::engine::browser::list::{BrowseLimits, BrowseList};
use nbt_protocol::wire::browse::{Announcement, ServerName, ServerType};

const SERVERS: usize = 10_000;

/// Bytes per server after announcing `SERVERS` servers, in ascending or in scattered order.
fn bytes_per_server(scattered: bool) -> f64 {
    let limits = BrowseLimits {
        max_servers_per_workgroup: 20_000,
        max_workgroups: 16,
        max_servers_total: 20_000,
        ..BrowseLimits::default()
    };
    let wg = ServerName::new("BENCHWG").unwrap();
    // The announcements are built first: only the list's own allocations count.
    let announcements: Vec<Announcement> = (0..SERVERS)
        .map(|i| {
            let n = if scattered { (i * 7919) % SERVERS } else { i };
            Announcement::new(
                ServerName::new(&format!("BENCH{n:05}")).unwrap(),
                ServerType::SERVER | ServerType::WORKSTATION,
                720_000,
                b"Samba 4.17.12-Debian".to_vec(),
            )
        })
        .collect();
    let now = Instant::now() + Duration::from_secs(1);
    // One host per entry, each from its own address, as on a LAN: the list also counts what
    // each source holds (the per-source caps).
    let addrs: Vec<_> = (0..SERVERS as u32)
        .map(|i| Some(std::net::Ipv4Addr::from(0xc612_0000 + i)))
        .collect();
    let before = counting::live();
    let mut list = BrowseList::new(limits);
    for (a, addr) in announcements.iter().zip(&addrs) {
        list.server_announced(now, &wg, a, *addr);
    }
    let after = counting::live();
    assert_eq!(list.server_count(), SERVERS);
    let per = (after - before) as f64 / SERVERS as f64;
    drop(list);
    per
}

#[test]
fn a_browse_list_entry_takes_at_most_200_bytes() {
    let ascending = bytes_per_server(false);
    let scattered = bytes_per_server(true);
    println!(
        "browse list: {ascending:.0} bytes per server (ascending names), {scattered:.0} (scattered)"
    );
    assert!(
        ascending <= 200.0,
        "{ascending:.0} bytes per server in ascending order"
    );
    assert!(
        scattered <= 200.0,
        "{scattered:.0} bytes per server in scattered order"
    );
}
