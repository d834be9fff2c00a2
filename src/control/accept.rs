//! The accept loop the control socket and the metrics listener share.
//!
//! A connection that waits for its request holds nothing a client needs: when a client (a UID
//! on the control socket, an address on the metrics listener) holds its cap, or every slot is
//! taken, the oldest connection still waiting for a request is closed to make room for the new
//! one. So clients that connect and send nothing, or a request byte by byte, cannot starve one
//! that sends its request at once: it is accepted, and it is the newest. A connection that is
//! being answered is never closed for another; when every slot is busy answering, a new one is
//! closed at once.

use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::ControlCall;

/// How often a loop says that it closed connections to make room.
const NOTE_INTERVAL: Duration = Duration::from_secs(60);

/// How many connections an accept loop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Connections at once, of all clients.
    pub max: usize,
    /// Connections at once of one client.
    pub per_client: usize,
}

/// What a connection is doing, as its server task tells the accept loop: waiting for a
/// request (it may be closed to make room) or answering one.
#[derive(Debug, Clone)]
pub(crate) struct Activity(Arc<AtomicBool>);

impl Activity {
    fn new() -> Activity {
        Activity(Arc::new(AtomicBool::new(true)))
    }

    /// The connection waits for a request.
    pub fn waiting(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// The connection answers a request.
    pub fn answering(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    fn is_waiting(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A connection being served.
struct Live<K> {
    client: K,
    activity: Activity,
    task: JoinHandle<()>,
}

/// Accepts connections until the receiving end of `requests` is gone, each served on a task of
/// its own within `limits` (see the module doc). `accept` gives a stream and the client it
/// comes from. A failed accept (out of file descriptors, most likely) is logged with `what` and
/// retried 100 ms later.
pub(crate) async fn accept_loop<S, K, A, AF, C, CF>(
    what: &'static str,
    limits: Limits,
    requests: mpsc::Sender<ControlCall>,
    mut accept: A,
    serve: C,
) where
    K: PartialEq + Display,
    A: FnMut() -> AF,
    AF: Future<Output = std::io::Result<(S, K)>>,
    C: Fn(S, mpsc::Sender<ControlCall>, Activity) -> CF,
    CF: Future<Output = ()> + Send + 'static,
{
    let mut live: Vec<Live<K>> = Vec::new();
    let mut closed = 0u64;
    let mut noted: Option<Instant> = None;
    loop {
        let (stream, client) = match accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "{what}: accept failed");
                // Out of file descriptors, most likely: let some close.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if requests.is_closed() {
            return;
        }
        live.retain(|c| !c.task.is_finished());
        let of_client = live.iter().filter(|c| c.client == client).count();
        let make_room = if of_client >= limits.per_client {
            Some(
                live.iter()
                    .position(|c| c.client == client && c.activity.is_waiting()),
            )
        } else if live.len() >= limits.max {
            Some(live.iter().position(|c| c.activity.is_waiting()))
        } else {
            None
        };
        match make_room {
            None => {}
            Some(Some(oldest)) => {
                live.remove(oldest).task.abort();
                closed += 1;
            }
            Some(None) => {
                tracing::debug!(%client, "{what}: every connection is busy; closing a new one");
                continue;
            }
        }
        if closed > 0 && noted.is_none_or(|t| t.elapsed() >= NOTE_INTERVAL) {
            tracing::info!(
                closed,
                "{what}: closed {} that had sent no request, to make room for new ones (at \
                 most {} at once, {} per client)",
                crate::plural::plural(closed, "connection", "connections"),
                limits.max,
                limits.per_client
            );
            noted = Some(Instant::now());
            closed = 0;
        }
        let activity = Activity::new();
        let task = tokio::spawn(serve(stream, requests.clone(), activity.clone()));
        live.push(Live {
            client,
            activity,
            task,
        });
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;

    /// Serves a stream by echoing one line after its first byte, then holding it open.
    async fn echo(mut s: DuplexStream, _: mpsc::Sender<ControlCall>, a: Activity) {
        let mut b = [0u8; 1];
        if s.read_exact(&mut b).await.is_ok() {
            a.answering();
            let _ = s.write_all(&b).await;
            std::future::pending::<()>().await;
        }
    }

    /// Whether the server closed the client's end.
    async fn is_closed(c: &mut DuplexStream) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_millis(200), c.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_oldest_waiting_connection_makes_room_and_an_answered_one_stays() {
        let (conns, incoming) = mpsc::channel::<(DuplexStream, u32)>(16);
        let incoming = Arc::new(tokio::sync::Mutex::new(incoming));
        let (requests, _rx) = mpsc::channel(1);
        let limits = Limits {
            max: 3,
            per_client: 2,
        };
        tokio::spawn(accept_loop(
            "test",
            limits,
            requests,
            move || {
                let incoming = incoming.clone();
                async move {
                    let next = incoming.lock().await.recv().await;
                    next.ok_or_else(|| std::io::Error::other("no more connections"))
                }
            },
            echo,
        ));
        let connect = async |client: u32| {
            let (ours, theirs) = tokio::io::duplex(64);
            conns.send((theirs, client)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            ours
        };
        // Client 1: one answered, one waiting; a third closes the waiting one, not the other.
        let mut answered = connect(1).await;
        answered.write_all(b"x").await.unwrap();
        let mut b = [0u8; 1];
        answered.read_exact(&mut b).await.unwrap();
        let mut idle = connect(1).await;
        let mut third = connect(1).await;
        assert!(is_closed(&mut idle).await, "the waiting one made room");
        assert!(!is_closed(&mut answered).await);
        assert!(!is_closed(&mut third).await);
        // Client 2 fills the last slot; client 3 then closes the oldest waiting one (third).
        let mut other = connect(2).await;
        let mut newest = connect(3).await;
        assert!(is_closed(&mut third).await);
        assert!(!is_closed(&mut other).await);
        assert!(!is_closed(&mut newest).await);
        assert!(!is_closed(&mut answered).await);
    }
}
