//! Browse-list load: announce many synthetic servers to a master browser, and time the listing
//! of its browse list over SMB1 (RAP NetServerEnum2, continued with NetServerEnum3).

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::dgram::DatagramLayer;
use nbtd::protocol::engine::{IfaceAddr, IfaceId};
use nbtd::protocol::name::{Scope, ScopedName, suffix};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{
    Announcement, BrowserFrame, MAILSLOT_BROWSE, ServerName, ServerType,
};
use nbtd::smbclient::{Session, Target};
use serde::Serialize;

/// Most servers announced in one run.
const MAX_ANNOUNCE: u32 = 100_000;

/// Announces `count` servers named `PREFIX00001`… to the master at `to` (UDP 138), from
/// `source` (our address, which the datagram carries), at most `rate` a second. Each says it
/// announces again every 12 minutes, so none expires during a benchmark.
pub fn announce(
    source: Ipv4Addr,
    to: Ipv4Addr,
    port: u16,
    workgroup: NetbiosName,
    prefix: &str,
    count: u32,
    rate: u32,
) -> anyhow::Result<()> {
    anyhow::ensure!(count <= MAX_ANNOUNCE, "at most {MAX_ANNOUNCE} servers");
    anyhow::ensure!(rate > 0, "the rate must be above zero");
    anyhow::ensure!(
        prefix.len() + 5 <= 15,
        "the prefix {prefix:?} is too long: names are prefix + 5 digits, at most 15 characters"
    );
    let socket = UdpSocket::bind(SocketAddrV4::new(source, port))
        .with_context(|| format!("cannot bind UDP {source}:{port}"))?;
    // The master may be named by its subnet's broadcast address.
    socket
        .set_broadcast(true)
        .context("cannot allow broadcasts on the socket")?;
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: source,
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        broadcast: Ipv4Addr::BROADCAST,
        mac: [0; 6],
    };
    let mut layer = DatagramLayer::new(port, Scope::none(), 1);
    let destination = ScopedName::unscoped(workgroup.with_suffix(suffix::LOCAL_MASTER));
    let start = Instant::now();
    for i in 0..count {
        let name = format!("{prefix}{:05}", i + 1);
        let frame = BrowserFrame::HostAnnouncement(Announcement::new(
            ServerName::new(&name).context("bad server name")?,
            ServerType::SERVER | ServerType::WORKSTATION,
            720_000,
            b"bench".to_vec(),
        ));
        let source_name = NetbiosName::new(&name, 0).context("bad NetBIOS name")?;
        let t = layer
            .mailslot(
                &iface,
                source_name,
                destination.clone(),
                None,
                MAILSLOT_BROWSE,
                frame.to_vec().context("cannot build the announcement")?,
            )
            .context("cannot build the datagram")?;
        socket
            .send_to(&t.payload, SocketAddrV4::new(to, port))
            .with_context(|| format!("cannot send to {to}:{port}"))?;
        // Pace: the i-th datagram goes no earlier than i / rate seconds after the start.
        let due = start + Duration::from_secs_f64(f64::from(i + 1) / f64::from(rate));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(())
}

/// How long a listing took.
#[derive(Debug, Serialize)]
pub struct ListReport {
    /// Servers listed.
    pub servers: usize,
    /// RAP calls made.
    pub rounds: usize,
    /// Seconds from the connection to the last entry.
    pub seconds: f64,
    /// Why the list is partial, when it is.
    pub incomplete: Option<String>,
}

/// Lists the servers of `workgroup` on `server` over TCP `port`, timed from the connection.
pub async fn list(
    server: Ipv4Addr,
    port: u16,
    workgroup: &str,
    timeout: Duration,
) -> anyhow::Result<ListReport> {
    let target = Target {
        addr: SocketAddrV4::new(server, port),
        name: None,
        label: server.to_string(),
    };
    let domain = ServerName::new(workgroup).context("bad workgroup name")?;
    let start = Instant::now();
    let mut s = Session::open(&target, timeout, false)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let listing = s
        .servers(ServerType::ALL, domain)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let seconds = start.elapsed().as_secs_f64();
    s.close().await;
    Ok(ListReport {
        servers: listing.servers.len(),
        rounds: listing.rounds,
        seconds,
        incomplete: listing.incomplete.map(|i| format!("{i:?}")),
    })
}
