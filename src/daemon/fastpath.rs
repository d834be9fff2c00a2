//! The fast path of the name service: one thread per unicast name-service socket answers plain
//! name queries and node status requests for our names from the engine's precomputed answers
//! ([`AnswerTable`]), and hands everything else to the main loop's name-service queue. It
//! blocks in `recvmmsg` until a request comes, takes every request already queued, and sends
//! their answers with one `sendmmsg` ([`super::mmsg`]).
//!
//! The main loop republishes the tables whenever the engine's state behind them changes
//! ([`NameEngine::answers_generation`](crate::protocol::engine::names::NameEngine::answers_generation)),
//! and adds what the thread answered to the engine's counters. The socket is in blocking mode;
//! the main loop sends on it with `MSG_DONTWAIT`.

use std::io;
use std::net::{Shutdown, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::{self, error::TrySendError};

use super::ifaces::{Inbound, Shared, Via};
use super::mmsg::{RecvBatch, SendBatch};
use crate::protocol::engine::answers::{AnswerTable, FastAnswer};
use crate::protocol::engine::limit::RateLimiter;
use crate::protocol::engine::{IfaceId, Service};

/// Pause after a failed receive, so that a persistent error cannot spin.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The answers the main loop publishes for one interface address.
#[derive(Debug)]
pub(crate) struct Published {
    /// The engine's generation the table was built at; `u64::MAX` before the first.
    generation: AtomicU64,
    table: Mutex<Arc<AnswerTable>>,
}

impl Published {
    fn new() -> Self {
        Published {
            generation: AtomicU64::new(u64::MAX),
            table: Mutex::new(Arc::new(AnswerTable::empty())),
        }
    }

    /// Replaces the table, built at the engine's `generation`.
    pub fn publish(&self, table: AnswerTable, generation: u64) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(table);
        self.generation.store(generation, Ordering::Release);
    }

    /// The generation of the table in force.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn current(&self) -> (u64, Arc<AnswerTable>) {
        let g = self.generation();
        let t = self
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (g, t)
    }
}

/// A running fast-path thread.
#[derive(Debug)]
pub(crate) struct FastPath {
    socket: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// What it answers from.
    pub published: Arc<Published>,
}

impl FastPath {
    /// Starts answering on `socket` (the unicast name-service socket of interface `id`, in
    /// blocking mode) and forwarding the rest to `tx`.
    pub fn start(
        id: IfaceId,
        socket: Arc<UdpSocket>,
        tx: mpsc::Sender<Inbound>,
        shared: Arc<Shared>,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let published = Arc::new(Published::new());
        let worker = Worker {
            id,
            socket: socket.clone(),
            stop: stop.clone(),
            published: published.clone(),
            tx,
            shared,
        };
        let thread = std::thread::Builder::new()
            .name(format!("nbtd-fast-{}", id.0))
            .spawn(move || worker.run())?;
        Ok(FastPath {
            socket,
            stop,
            thread: Some(thread),
            published,
        })
    }
}

impl Drop for FastPath {
    /// Stops the thread: a shutdown of the socket's receiving side wakes its blocked receive.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Linux wakes the receiver even on an unconnected UDP socket (and says ENOTCONN).
        let _ = socket2::SockRef::from(&*self.socket).shutdown(Shutdown::Read);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    id: IfaceId,
    socket: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
    published: Arc<Published>,
    tx: mpsc::Sender<Inbound>,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(self) {
        let mut received = RecvBatch::new();
        let mut answers = SendBatch::<FastAnswer>::new();
        let (mut generation, mut table) = self.published.current();
        // Node status answers per source, as the engine limits its own.
        let mut limiter = RateLimiter::new(table.status_rate());
        loop {
            let r = received.receive(&*self.socket);
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            let n = match r {
                Ok(n) => n,
                Err(e) => {
                    self.shared.receive_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %e, iface = self.id.0, "receive failed");
                    std::thread::sleep(RECV_ERROR_PAUSE);
                    continue;
                }
            };
            if self.published.generation() != generation {
                (generation, table) = self.published.current();
                if limiter.limit() != table.status_rate() {
                    limiter.set_limit(table.status_rate());
                }
            }
            for i in 0..n {
                // An IPv4 socket receives from IPv4 peers only.
                let Some((src, data)) = received.get(i) else {
                    continue;
                };
                let answer = answers
                    .slot()
                    .and_then(|slot| table.answer_into(src, data, slot));
                let limited = matches!(answer, Some((FastAnswer::NodeStatus, _)))
                    && !limiter.allow(std::time::Instant::now(), *src.ip());
                match answer {
                    Some(_) if limited => {
                        self.shared
                            .fast_rate_limited
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    Some((kind, len)) => {
                        // Counted when queued, as the engine counts its answers.
                        let c = match kind {
                            FastAnswer::Query => &self.shared.fast_queries,
                            FastAnswer::NodeStatus => &self.shared.fast_statuses,
                        };
                        c.fetch_add(1, Ordering::Relaxed);
                        answers.commit(src, len, kind);
                    }
                    None => {
                        if !self.forward(src, data) {
                            return;
                        }
                    }
                }
            }
            self.send(&mut answers);
        }
    }

    /// Sends the batch of answers; counts those that could not be sent.
    fn send(&self, answers: &mut SendBatch<FastAnswer>) {
        let (failed, error) = answers.flush(&*self.socket, |_| {});
        if failed > 0 {
            self.shared
                .fast_send_errors
                .fetch_add(failed as u64, Ordering::Relaxed);
            if let Some(e) = error {
                tracing::debug!(error = %e, failed, "send failed");
            }
        }
    }

    /// Hands a datagram to the main loop; false once the main loop is gone.
    fn forward(&self, src: SocketAddrV4, data: &[u8]) -> bool {
        let msg = Inbound {
            service: Service::Name,
            via: Via::Unicast(self.id),
            src,
            data: data.to_vec(),
        };
        match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.shared
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Instant;

    use super::*;
    use crate::protocol::NetbiosName;
    use crate::protocol::engine::names::{NameConfig, NameEngine};
    use crate::protocol::engine::{IfaceAddr, Rng};
    use crate::protocol::name::ScopedName;
    use crate::protocol::wire::Emit;
    use crate::protocol::wire::ns::NameServicePacket;

    /// A name engine on 127.0.0.1/8 whose names are registered.
    fn engine() -> NameEngine {
        let mut e = NameEngine::new(
            NameConfig::new(
                NetbiosName::new("ALPHA", 0).unwrap(),
                NetbiosName::new("LABWG", 0).unwrap(),
            ),
            Rng::new(3),
        );
        let mut now = Instant::now();
        e.add_interface(
            now,
            IfaceAddr {
                id: IfaceId(1),
                addr: Ipv4Addr::LOCALHOST,
                netmask: Ipv4Addr::new(255, 0, 0, 0),
                broadcast: Ipv4Addr::new(127, 255, 255, 255),
                mac: [2, 0, 0, 0, 0, 1],
            },
        );
        for _ in 0..4 {
            now += Duration::from_millis(250);
            e.handle_timeout(now);
        }
        e
    }

    /// Answers what the table holds with the engine's exact bytes, forwards the rest, and
    /// stops when dropped although its thread is blocked in a receive.
    #[test]
    fn answers_from_the_table_forwards_the_rest_and_stops_when_dropped() {
        let e = engine();
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let (tx, mut rx) = mpsc::channel(8);
        let shared = Arc::new(Shared::default());
        let fast = FastPath::start(IfaceId(1), server.clone(), tx, shared.clone()).unwrap();
        fast.published
            .publish(e.answer_table(IfaceId(1)).unwrap(), e.answers_generation());

        // The client is another loopback address: packets from our own address are ignored.
        let client = UdpSocket::bind("127.0.0.2:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let to = server.local_addr().unwrap();
        let q = ScopedName::unscoped(NetbiosName::new("ALPHA", 0x20).unwrap());
        let query = NameServicePacket::name_query(0xbeef, q.clone(), false);
        client.send_to(&query.to_vec().unwrap(), to).unwrap();
        let mut buf = [0u8; 1024];
        let (n, _) = client.recv_from(&mut buf).unwrap();
        let mut table_out = [0u8; 1024];
        let src = match client.local_addr().unwrap() {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => unreachable!("bound to IPv4"),
        };
        let (kind, len) = e
            .answer_table(IfaceId(1))
            .unwrap()
            .answer_into(src, &query.to_vec().unwrap(), &mut table_out)
            .unwrap();
        assert_eq!(kind, FastAnswer::Query);
        assert_eq!(&buf[..n], &table_out[..len]);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), 0xbeef);
        // Counted before it was sent, as the engine counts.
        assert_eq!(shared.fast_queries.load(Ordering::Relaxed), 1);

        // A registration is the engine's business: it reaches the main loop's queue.
        let other = NameServicePacket::name_query(7, q, true);
        let mut bytes = other.to_vec().unwrap();
        bytes[2] |= 0x28; // opcode: registration
        client.send_to(&bytes, to).unwrap();
        let m = rx.blocking_recv().expect("the datagram is forwarded");
        assert_eq!(m.data, bytes);
        assert_eq!(m.via, Via::Unicast(IfaceId(1)));

        // Dropping wakes the blocked thread and joins it.
        drop(fast);
        assert_eq!(
            Arc::strong_count(&server),
            1,
            "the thread let go of the socket"
        );
    }
}
