//! What a master allocates while it announces, with a big browse list: its announcements choose
//! backups among the list's servers, and that must not copy the list. A copy stays in the
//! daemon's allocator after it is freed: when the master copied its 10,000 entries at every
//! announcement, the daemon's resident memory per browse entry doubled a minute after the
//! entries came in (contrib/bench/run.sh). Counted with a counting allocator that keeps the
//! peak; no clock is involved.

mod counting;
mod sim;

use std::net::Ipv4Addr;
use std::time::Duration;

use nbt_protocol::engine::browser::Role;
use nbt_protocol::wire::browse::{Announcement, ServerName, ServerType};
use sim::node::{IFACE, NodeLan, configs};

const SERVERS: usize = 10_000;

#[test]
fn a_master_announcing_over_10000_servers_does_not_copy_its_list() {
    let mut lan = NodeLan::new(7);
    lan.keep_wire = false;
    let (nc, mut bc) = configs("ALPHA", "LABWG", 65);
    bc.limits.max_servers_per_workgroup = 20_000;
    bc.limits.max_servers_total = 20_000;
    let master = lan.add(1, nc, bc, 7);
    lan.run_until_true(Duration::from_secs(120), |l| l.masters("LABWG").len() == 1)
        .expect("a lone browser at os level 65 becomes the master");
    assert_eq!(lan.role(master), Role::Master);

    // 10,000 potential browsers heard directly: every one is a candidate backup.
    let wg = ServerName::new("LABWG").unwrap();
    let now = lan.now;
    let list = lan.hosts[master]
        .node
        .browser_mut()
        .list_mut(IFACE)
        .unwrap();
    for i in 0..SERVERS {
        let a = Announcement::new(
            ServerName::new(&format!("HOST{i:05}")).unwrap(),
            ServerType::WORKSTATION | ServerType::SERVER | ServerType::POTENTIAL_BROWSER,
            720_000,
            b"Samba 4.17.12-Debian".to_vec(),
        );
        let addr = Ipv4Addr::new(198, 18, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        list.server_announced(now, &wg, &a, Some(addr));
    }
    assert!(list.server_count() > SERVERS);

    // The next announcements (the schedule is 1, 2, 4, 8, then 12 minutes: 13 minutes hold at
    // least one), each choosing backups, measured against what was live before.
    let before = counting::reset_peak();
    lan.run_for(Duration::from_secs(13 * 60));
    let peak = counting::peak() - before;
    println!("a master's announcements over {SERVERS} servers: {peak} bytes at the peak");
    assert_eq!(lan.role(master), Role::Master);
    // What remains is the frames it sends (a BecomeBackup for each of the 313 backups it
    // wants) and its appointments, about 90 KiB. With the copy of the list's entries it was
    // 2.1 MB.
    assert!(
        peak < 256 * 1024,
        "the master's announcements allocated {peak} bytes at the peak: does something copy the \
         browse list?"
    );
}
