//! The interface addresses served and their sockets. For each service (name, UDP 137; datagram,
//! UDP 138): one unicast socket per address, which also sends, one broadcast socket per
//! broadcast address (shared by addresses on the same subnet), and one socket per interface for
//! the limited broadcast address 255.255.255.255, bound to that interface (shared by its
//! addresses), which some clients send to instead of the subnet's. The unicast name-service socket
//! is read by a fast-path thread ([`super::fastpath`]); a receive task per other socket feeds the
//! main loop. Each service has its own bounded queue, so that a flood of datagrams cannot crowd
//! out the name service.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;

use super::fastpath::{FastPath, Published};
use crate::iface::Interface;
use crate::protocol::engine::{IfaceAddr, IfaceId, Service};
use crate::sockets::{BindError, bind_udp, bind_udp_on_device};

/// The largest datagram read; name and datagram service packets are at most 576 bytes on the
/// wire as peers send them, and anything longer than this is cut and then refused as malformed.
const RECV_BUFFER_LEN: usize = 4096;
/// Pause after a failed receive, so that a persistent error cannot spin.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Which socket a datagram came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The unicast socket of this interface address.
    Unicast(IfaceId),
    /// The broadcast socket of this broadcast address.
    Broadcast(Ipv4Addr),
    /// The limited broadcast (255.255.255.255) socket of the interface with this index.
    Limited(u32),
}

/// One received datagram.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub service: Service,
    pub via: Via,
    pub src: SocketAddrV4,
    pub data: Vec<u8>,
}

/// Counters the receive tasks update.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Datagrams dropped because the main loop's queue was full.
    pub dropped_queue_full: AtomicU64,
    /// Failed receives.
    pub receive_errors: AtomicU64,
    /// Name queries the fast path answered, not yet added to the engine's counters.
    pub fast_queries: AtomicU64,
    /// Node status requests the fast path answered, not yet added to the engine's counters.
    pub fast_statuses: AtomicU64,
    /// Node status requests the fast path dropped over the per-source rate limit, not yet
    /// added to the engine's counters.
    pub fast_rate_limited: AtomicU64,
    /// Failed sends of the fast path.
    pub fast_send_errors: AtomicU64,
}

/// An interface name and address: what identifies an [`IfaceId`].
pub(crate) type Key = (String, Ipv4Addr);

/// The UDP ports of the two services.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UdpPorts {
    pub name: u16,
    pub datagram: u16,
}

impl UdpPorts {
    fn of(&self, service: Service) -> u16 {
        match service {
            Service::Name => self.name,
            Service::Datagram => self.datagram,
        }
    }
}

/// A socket that sends: the name service's is in blocking mode (its fast-path thread reads it)
/// and is sent on without waiting; the datagram service's belongs to tokio.
#[derive(Debug, Clone)]
pub(crate) enum SendSocket {
    /// The unicast name-service socket.
    Name(Arc<std::net::UdpSocket>),
    /// The unicast datagram-service socket.
    Datagram(Arc<UdpSocket>),
}

/// One interface address served.
#[derive(Debug)]
pub(crate) struct Served {
    pub id: IfaceId,
    pub iface: Interface,
    name: Arc<std::net::UdpSocket>,
    datagram: Arc<UdpSocket>,
    /// Reads the name-service socket.
    fast: FastPath,
    /// Reads the datagram-service socket.
    task: JoinHandle<()>,
}

impl Served {
    /// The address as the engine sees it.
    pub fn engine_addr(&self) -> IfaceAddr {
        IfaceAddr {
            id: self.id,
            addr: self.iface.addr,
            netmask: self.iface.netmask,
            broadcast: self.iface.broadcast,
            mac: self.iface.mac,
        }
    }

    /// The socket that sends for `service`.
    pub fn socket(&self, service: Service) -> SendSocket {
        match service {
            Service::Name => SendSocket::Name(self.name.clone()),
            Service::Datagram => SendSocket::Datagram(self.datagram.clone()),
        }
    }

    /// The fast path's published answers.
    pub fn answers(&self) -> &Published {
        &self.fast.published
    }

    /// `eth0 198.18.0.1`, for logs.
    pub fn label(&self) -> String {
        format!("{} {}", self.iface.name, self.iface.addr)
    }
}

/// The broadcast sockets of one broadcast address, or the limited broadcast sockets of one
/// interface, name service first.
#[derive(Debug)]
struct BroadcastSocket {
    tasks: [JoinHandle<()>; 2],
    members: Vec<IfaceId>,
}

/// The interface addresses served, with their sockets.
#[derive(Debug)]
pub(crate) struct Interfaces {
    ports: UdpPorts,
    /// The name service's queue.
    tx_name: mpsc::Sender<Inbound>,
    /// The datagram service's queue.
    tx_datagram: mpsc::Sender<Inbound>,
    shared: Arc<Shared>,
    served: BTreeMap<IfaceId, Served>,
    broadcast: HashMap<Ipv4Addr, BroadcastSocket>,
    /// The limited broadcast sockets, by interface index.
    limited: HashMap<u32, BroadcastSocket>,
    ids: HashMap<Key, IfaceId>,
    next_id: u32,
}

impl Interfaces {
    /// No address yet; received datagrams go to the queue of their service.
    pub fn new(
        ports: UdpPorts,
        tx_name: mpsc::Sender<Inbound>,
        tx_datagram: mpsc::Sender<Inbound>,
        shared: Arc<Shared>,
    ) -> Self {
        Interfaces {
            ports,
            tx_name,
            tx_datagram,
            shared,
            served: BTreeMap::new(),
            broadcast: HashMap::new(),
            limited: HashMap::new(),
            ids: HashMap::new(),
            next_id: 1,
        }
    }

    /// The same ID for the same interface name and address, for the life of the process.
    fn id_for(&mut self, key: Key) -> IfaceId {
        let next = &mut self.next_id;
        *self.ids.entry(key).or_insert_with(|| {
            let id = IfaceId(*next);
            *next += 1;
            id
        })
    }

    /// Opens the sockets of a new interface address, both services, and starts receiving on
    /// them. If any socket cannot be opened, none stays open.
    pub fn open(&mut self, iface: Interface) -> Result<IfaceId, BindError> {
        let id = self.id_for((iface.name.clone(), iface.addr));
        let (addr, name_port) = (iface.addr, self.ports.name);
        let other = |source| BindError::Other {
            iface: iface.name.clone(),
            addr,
            port: name_port,
            source,
        };
        let name = bind_udp(&iface.name, addr, name_port, true)?;
        name.set_nonblocking(false).map_err(other)?;
        let name = Arc::new(name);
        let datagram = bind_udp(&iface.name, addr, self.ports.datagram, true)?;
        let datagram = Arc::new(to_tokio(&iface, addr, self.ports.datagram, datagram)?);
        self.join_broadcast(id, &iface)?;
        let fast =
            match FastPath::start(id, name.clone(), self.tx_name.clone(), self.shared.clone()) {
                Ok(f) => f,
                Err(e) => {
                    self.leave_broadcast(id, iface.broadcast);
                    return Err(other(e));
                }
            };
        let task = self.spawn_receiver(datagram.clone(), Service::Datagram, Via::Unicast(id));
        self.join_limited(id, &iface);
        self.served.insert(
            id,
            Served {
                id,
                iface,
                name,
                datagram,
                fast,
                task,
            },
        );
        Ok(id)
    }

    /// Binds `addr` on the name and the datagram port with `bind` (interface name, address,
    /// port).
    fn bind_pair(
        &self,
        iface: &Interface,
        addr: Ipv4Addr,
        bind: impl Fn(&str, Ipv4Addr, u16) -> Result<std::net::UdpSocket, BindError>,
    ) -> Result<[UdpSocket; 2], BindError> {
        let open = |service| {
            let port = self.ports.of(service);
            let s = bind(&iface.name, addr, port)?;
            to_tokio(iface, addr, port, s)
        };
        Ok([open(Service::Name)?, open(Service::Datagram)?])
    }

    /// Takes up new attributes (mask, broadcast, MAC) of an address already served.
    pub fn update(&mut self, id: IfaceId, iface: Interface) -> Result<(), BindError> {
        let Some(old) = self.served.get(&id).map(|s| s.iface.clone()) else {
            return Ok(());
        };
        if old.broadcast != iface.broadcast {
            self.join_broadcast(id, &iface)?;
            self.leave_broadcast(id, old.broadcast);
        }
        if old.index != iface.index {
            self.join_limited(id, &iface);
            self.leave_limited(id, old.index);
        }
        if let Some(s) = self.served.get_mut(&id) {
            s.iface = iface;
        }
        Ok(())
    }

    /// Stops serving an address: its receive task ends and its sockets close.
    pub fn close(&mut self, id: IfaceId) -> Option<Served> {
        let s = self.served.remove(&id)?;
        s.task.abort();
        self.leave_broadcast(id, s.iface.broadcast);
        self.leave_limited(id, s.iface.index);
        Some(s)
    }

    /// The address served with this ID.
    pub fn get(&self, id: IfaceId) -> Option<&Served> {
        self.served.get(&id)
    }

    /// The address served under this interface name and address.
    pub fn lookup(&self, key: &Key) -> Option<&Served> {
        self.ids.get(key).and_then(|id| self.served.get(id))
    }

    /// Every address served, in ID order.
    pub fn served(&self) -> impl Iterator<Item = &Served> {
        self.served.values()
    }

    /// Whether no address is served.
    pub fn is_empty(&self) -> bool {
        self.served.is_empty()
    }

    /// The addresses that receive on the broadcast socket of `broadcast`.
    pub fn members(&self, broadcast: Ipv4Addr) -> &[IfaceId] {
        self.broadcast
            .get(&broadcast)
            .map_or(&[], |b| b.members.as_slice())
    }

    /// The addresses that receive on the limited broadcast socket of interface `index`.
    pub fn limited_members(&self, index: u32) -> &[IfaceId] {
        self.limited
            .get(&index)
            .map_or(&[], |b| b.members.as_slice())
    }

    fn join_broadcast(&mut self, id: IfaceId, iface: &Interface) -> Result<(), BindError> {
        // A /32 on loopback has no broadcast of its own: its unicast socket gets everything.
        if iface.broadcast == iface.addr || join(&mut self.broadcast, &iface.broadcast, id) {
            return Ok(());
        }
        let sockets = self.bind_pair(iface, iface.broadcast, |name, addr, port| {
            bind_udp(name, addr, port, false)
        })?;
        let group = self.start_group(sockets, Via::Broadcast(iface.broadcast), id);
        self.broadcast.insert(iface.broadcast, group);
        Ok(())
    }

    fn leave_broadcast(&mut self, id: IfaceId, broadcast: Ipv4Addr) {
        leave(&mut self.broadcast, &broadcast, id);
    }

    /// Adds the address to its interface's limited broadcast sockets, opening them for the
    /// interface's first address. The subnet's broadcast address is what NetBIOS speaks, so a
    /// failure here is logged and the address served without them.
    fn join_limited(&mut self, id: IfaceId, iface: &Interface) {
        // A /32 on loopback has no broadcast; loopback gets no broadcasts from elsewhere.
        if iface.broadcast == iface.addr
            || iface.name == "lo"
            || join(&mut self.limited, &iface.index, id)
        {
            return;
        }
        let sockets = match self.bind_pair(iface, Ipv4Addr::BROADCAST, bind_udp_on_device) {
            Ok(sockets) => sockets,
            Err(e) => {
                tracing::warn!(
                    interface = %iface.name,
                    "datagrams sent to 255.255.255.255 on this interface will not be heard: {e}"
                );
                return;
            }
        };
        let group = self.start_group(sockets, Via::Limited(iface.index), id);
        self.limited.insert(iface.index, group);
    }

    fn leave_limited(&mut self, id: IfaceId, index: u32) {
        leave(&mut self.limited, &index, id);
    }

    /// Starts receiving on a shared socket pair (name service first), with `id` its first member.
    fn start_group(&self, sockets: [UdpSocket; 2], via: Via, id: IfaceId) -> BroadcastSocket {
        let [name, datagram] = sockets.map(Arc::new);
        BroadcastSocket {
            tasks: [
                self.spawn_receiver(name, Service::Name, via),
                self.spawn_receiver(datagram, Service::Datagram, via),
            ],
            members: vec![id],
        }
    }

    fn spawn_receiver(&self, socket: Arc<UdpSocket>, service: Service, via: Via) -> JoinHandle<()> {
        let tx = match service {
            Service::Name => self.tx_name.clone(),
            Service::Datagram => self.tx_datagram.clone(),
        };
        let shared = self.shared.clone();
        tokio::spawn(receive(socket, service, via, tx, shared))
    }
}

impl Drop for Interfaces {
    fn drop(&mut self) {
        for s in self.served.values() {
            s.task.abort();
        }
        for b in self.broadcast.values().chain(self.limited.values()) {
            b.tasks.iter().for_each(JoinHandle::abort);
        }
    }
}

/// Adds `id` to the shared sockets under `key`, if they are open; whether they are.
fn join<K: Eq + std::hash::Hash>(
    groups: &mut HashMap<K, BroadcastSocket>,
    key: &K,
    id: IfaceId,
) -> bool {
    let Some(b) = groups.get_mut(key) else {
        return false;
    };
    if !b.members.contains(&id) {
        b.members.push(id);
    }
    true
}

/// Takes `id` out of the shared sockets under `key`, closing them after their last member.
fn leave<K: Eq + std::hash::Hash>(groups: &mut HashMap<K, BroadcastSocket>, key: &K, id: IfaceId) {
    let Some(b) = groups.get_mut(key) else {
        return;
    };
    b.members.retain(|m| *m != id);
    if b.members.is_empty() {
        if let Some(b) = groups.remove(key) {
            b.tasks.iter().for_each(JoinHandle::abort);
        }
    }
}

/// Hands a bound socket to tokio.
fn to_tokio(
    iface: &Interface,
    addr: Ipv4Addr,
    port: u16,
    s: std::net::UdpSocket,
) -> Result<UdpSocket, BindError> {
    UdpSocket::from_std(s).map_err(|source| BindError::Other {
        iface: iface.name.clone(),
        addr,
        port,
        source,
    })
}

/// Receives on one socket until the main loop goes away; a full queue drops and counts.
async fn receive(
    socket: Arc<UdpSocket>,
    service: Service,
    via: Via,
    tx: mpsc::Sender<Inbound>,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, SocketAddr::V4(src))) => {
                let msg = Inbound {
                    service,
                    via,
                    src,
                    data: buf[..n].to_vec(),
                };
                match tx.try_send(msg) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        shared.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Closed(_)) => return,
                }
            }
            // An IPv4 socket receives from IPv4 peers only.
            Ok((_, SocketAddr::V6(_))) => {}
            Err(e) => {
                shared.receive_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, ?service, ?via, "receive failed");
                tokio::time::sleep(RECV_ERROR_PAUSE).await;
            }
        }
    }
}
