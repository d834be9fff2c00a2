//! The interface addresses served and their sockets: one unicast socket per address, one
//! broadcast socket per broadcast address (shared by addresses on the same subnet), and a receive
//! task per socket feeding the main loop's bounded queue.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;

use crate::iface::Interface;
use crate::protocol::engine::{IfaceAddr, IfaceId};
use crate::sockets::{BindError, bind_udp};

/// The largest datagram read; name service datagrams are at most 576 bytes, and anything longer
/// is cut here and then refused as malformed.
const RECV_BUFFER_LEN: usize = 2048;
/// Pause after a failed receive, so that a persistent error cannot spin.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Which socket a datagram came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The unicast socket of this interface address.
    Unicast(IfaceId),
    /// The broadcast socket of this broadcast address.
    Broadcast(Ipv4Addr),
}

/// One received datagram.
#[derive(Debug)]
pub(crate) struct Inbound {
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
}

/// An interface name and address: what identifies an [`IfaceId`].
pub(crate) type Key = (String, Ipv4Addr);

/// One interface address served.
#[derive(Debug)]
pub(crate) struct Served {
    pub id: IfaceId,
    pub iface: Interface,
    pub socket: Arc<UdpSocket>,
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

    /// `eth0 198.18.0.1`, for logs.
    pub fn label(&self) -> String {
        format!("{} {}", self.iface.name, self.iface.addr)
    }
}

#[derive(Debug)]
struct BroadcastSocket {
    task: JoinHandle<()>,
    members: Vec<IfaceId>,
}

/// The interface addresses served, with their sockets.
#[derive(Debug)]
pub(crate) struct Interfaces {
    port: u16,
    tx: mpsc::Sender<Inbound>,
    shared: Arc<Shared>,
    served: BTreeMap<IfaceId, Served>,
    broadcast: HashMap<Ipv4Addr, BroadcastSocket>,
    ids: HashMap<Key, IfaceId>,
    next_id: u32,
}

impl Interfaces {
    pub fn new(port: u16, tx: mpsc::Sender<Inbound>, shared: Arc<Shared>) -> Self {
        Interfaces {
            port,
            tx,
            shared,
            served: BTreeMap::new(),
            broadcast: HashMap::new(),
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

    /// Opens the sockets of a new interface address and starts receiving on them.
    pub fn open(&mut self, iface: Interface) -> Result<IfaceId, BindError> {
        let id = self.id_for((iface.name.clone(), iface.addr));
        let unicast = bind_udp(&iface.name, iface.addr, self.port, true)?;
        let unicast = to_tokio(&iface, iface.addr, self.port, unicast)?;
        self.join_broadcast(id, &iface)?;
        let socket = Arc::new(unicast);
        let task = self.spawn_receiver(socket.clone(), Via::Unicast(id));
        self.served.insert(
            id,
            Served {
                id,
                iface,
                socket,
                task,
            },
        );
        Ok(id)
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

    fn join_broadcast(&mut self, id: IfaceId, iface: &Interface) -> Result<(), BindError> {
        // A /32 on loopback has no broadcast of its own: its unicast socket gets everything.
        if iface.broadcast == iface.addr {
            return Ok(());
        }
        if let Some(b) = self.broadcast.get_mut(&iface.broadcast) {
            if !b.members.contains(&id) {
                b.members.push(id);
            }
            return Ok(());
        }
        let s = bind_udp(&iface.name, iface.broadcast, self.port, false)?;
        let s = to_tokio(iface, iface.broadcast, self.port, s)?;
        let task = self.spawn_receiver(Arc::new(s), Via::Broadcast(iface.broadcast));
        self.broadcast.insert(
            iface.broadcast,
            BroadcastSocket {
                task,
                members: vec![id],
            },
        );
        Ok(())
    }

    fn leave_broadcast(&mut self, id: IfaceId, broadcast: Ipv4Addr) {
        let Some(b) = self.broadcast.get_mut(&broadcast) else {
            return;
        };
        b.members.retain(|m| *m != id);
        if b.members.is_empty() {
            if let Some(b) = self.broadcast.remove(&broadcast) {
                b.task.abort();
            }
        }
    }

    fn spawn_receiver(&self, socket: Arc<UdpSocket>, via: Via) -> JoinHandle<()> {
        tokio::spawn(receive(socket, via, self.tx.clone(), self.shared.clone()))
    }
}

impl Drop for Interfaces {
    fn drop(&mut self) {
        for s in self.served.values() {
            s.task.abort();
        }
        for b in self.broadcast.values() {
            b.task.abort();
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
async fn receive(socket: Arc<UdpSocket>, via: Via, tx: mpsc::Sender<Inbound>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, SocketAddr::V4(src))) => {
                let msg = Inbound {
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
                tracing::debug!(error = %e, ?via, "receive failed");
                tokio::time::sleep(RECV_ERROR_PAUSE).await;
            }
        }
    }
}
