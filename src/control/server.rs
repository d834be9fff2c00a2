//! The daemon's side of the control socket: accepts connections (at most 16 at once, 8 of one
//! user), reads a request a line (at most 64 KiB, each within 5 s), and hands each to the main
//! loop.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::accept::{Activity, Limits, accept_loop};
use super::{ControlCall, MAX_REQUEST_LEN, MAX_RESPONSE_LEN, Request, Response, SOCKET_MODE};

/// Connections served at once, and of one user (by SO_PEERCRED): past either, the oldest one
/// still waiting for a request is closed to make room (see [`super::accept`]).
const LIMITS: Limits = Limits {
    max: 16,
    per_client: 8,
};
/// A connection that has not sent a complete request within this long is closed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing an answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Requests answered on one connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// Why the control socket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Its directory could not be created.
    #[error(
        "cannot create the control socket's directory {}: {source}; create it or set \
         control_socket / --control-socket", path.display()
    )]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another daemon answers on the socket.
    #[error(
        "another nbtd is running: it answers on {}; stop it first, or give this one another \
         control_socket / --control-socket", path.display()
    )]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// Something that is not a socket is in the way.
    #[error(
        "{} exists and is not a socket; remove it or set control_socket / --control-socket",
        path.display()
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The socket could not be created.
    #[error("cannot open the control socket {}: {source}", path.display())]
    Bind {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The listening control socket; the socket file is removed when it is dropped.
#[derive(Debug)]
pub struct ControlListener {
    listener: Option<UnixListener>,
    path: PathBuf,
}

impl ControlListener {
    /// Creates the socket at `path` (and its directory), replacing a stale socket file that no
    /// daemon answers on, with permissions [`SOCKET_MODE`]. Needs a tokio runtime.
    pub fn bind(path: &Path) -> Result<ControlListener, ControlError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ControlError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(ControlError::NotASocket {
                    path: path.to_owned(),
                });
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(ControlError::InUse {
                    path: path.to_owned(),
                });
            }
            let _ = std::fs::remove_file(path);
        }
        let bind = |source| ControlError::Bind {
            path: path.to_owned(),
            source,
        };
        let listener = UnixListener::bind(path).map_err(bind)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(bind)?;
        Ok(ControlListener {
            listener: Some(listener),
            path: path.to_owned(),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until the receiving end of `requests` is gone, passing each request
    /// to it. Run it as a task; dropping the task closes the socket.
    pub async fn serve(mut self, requests: mpsc::Sender<ControlCall>) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        accept_loop(
            "control socket",
            LIMITS,
            requests,
            || async {
                let (s, _) = listener.accept().await?;
                let uid = s.peer_cred()?.uid();
                Ok((s, Uid(uid)))
            },
            connection,
        )
        .await;
    }
}

/// The user at the other end of a control connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Uid(u32);

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UID {}", self.0)
    }
}

impl Drop for ControlListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An answer at least this long hands its freed memory back to the kernel once it is sent.
const TRIM_AFTER_LEN: usize = 64 * 1024;

/// Serves one connection: a request a line, a response a line.
async fn connection(stream: UnixStream, requests: mpsc::Sender<ControlCall>, activity: Activity) {
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        activity.waiting();
        let mut line = Vec::new();
        let mut limited = (&mut r).take(MAX_REQUEST_LEN as u64);
        let read = limited.read_until(b'\n', &mut line);
        match tokio::time::timeout(REQUEST_TIMEOUT, read).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
        activity.answering();
        let complete = line.last() == Some(&b'\n');
        let response = if !complete && line.len() >= MAX_REQUEST_LEN {
            Response::Error {
                message: format!("request longer than {MAX_REQUEST_LEN} bytes"),
            }
        } else {
            answer(&line, &requests).await
        };
        let out = encode(&response);
        let write = w.write_all(&out);
        let written = matches!(tokio::time::timeout(WRITE_TIMEOUT, write).await, Ok(Ok(())));
        if out.len() >= TRIM_AFTER_LEN {
            // A large browse list: the copies behind it (the list's entries, then their JSON)
            // are freed here, and the allocator would otherwise keep their pages.
            drop((response, out));
            crate::sys::trim_heap();
        }
        if !written || !complete {
            return;
        }
    }
}

async fn answer(line: &[u8], requests: &mpsc::Sender<ControlCall>) -> Response {
    let request = match serde_json::from_slice::<Request>(line) {
        Ok(r) => r,
        Err(e) => {
            return Response::Error {
                message: format!(
                    "cannot read the request: {e}; send {{\"request\":\"status\"}} or \
                     {{\"request\":\"browse_list\",\"workgroup\":\"NAME\"}}"
                ),
            };
        }
    };
    let (reply, rx) = oneshot::channel();
    if requests.send(ControlCall { request, reply }).await.is_err() {
        return stopping();
    }
    rx.await.unwrap_or_else(|_| stopping())
}

/// The response as one line, or an error line when it would be longer than a client reads.
fn encode(response: &Response) -> Vec<u8> {
    let mut out = serde_json::to_vec(response).unwrap_or_default();
    if out.len() >= MAX_RESPONSE_LEN {
        out = serde_json::to_vec(&Response::Error {
            message: format!(
                "the answer has {} bytes, more than the {MAX_RESPONSE_LEN} a client reads; \
                 lower the browse-list caps in [browser]",
                out.len()
            ),
        })
        .unwrap_or_default();
    }
    out.push(b'\n');
    out
}

fn stopping() -> Response {
    Response::Error {
        message: "the daemon is stopping".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};

    use super::*;
    use crate::control::tests::{sample, sample_list};
    use crate::control::{CLIENT_TIMEOUT, query_browse_list, query_status};

    #[tokio::test(flavor = "current_thread")]
    async fn serves_status_and_browse_lists_and_refuses_nonsense() {
        let dir = std::env::temp_dir().join(format!("nbtd-control-unit-{}", std::process::id()));
        let path = dir.join("sub").join("control.sock");
        let listener = ControlListener::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, SOCKET_MODE);
        // A second daemon on the same path is refused while the first answers.
        assert!(matches!(
            ControlListener::bind(&path),
            Err(ControlError::InUse { .. })
        ));
        let (tx, mut rx) = mpsc::channel::<ControlCall>(4);
        tokio::spawn(listener.serve(tx));
        tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                let answer = match call.request {
                    Request::Status => Response::Status(Box::new(sample())),
                    Request::BrowseList { workgroup } => {
                        let mut l = sample_list();
                        l.workgroup = workgroup.unwrap_or_else(|| "LABWG".into());
                        Response::BrowseList(Box::new(l))
                    }
                };
                let _ = call.reply.send(answer);
            }
        });
        let p = path.clone();
        let status = tokio::task::spawn_blocking(move || query_status(&p))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, sample());
        let p = path.clone();
        let list = tokio::task::spawn_blocking(move || query_browse_list(&p, Some("OTHERWG")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(list, sample_list());
        let p = path.clone();
        let list = tokio::task::spawn_blocking(move || query_browse_list(&p, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(list.workgroup, "LABWG");

        let p = path.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
            s.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            s.write_all(b"{\"request\":\"reboot\"}\n").unwrap();
            let mut line = String::new();
            BufReader::new(&s).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["response"], "error");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains("reboot"), "{v}");
        assert!(message.contains("browse_list"), "{v}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_answer_too_long_for_a_client_becomes_an_error() {
        let mut l = sample_list();
        let server = l.interfaces[0].servers[0].clone();
        l.interfaces[0].servers = vec![server; MAX_RESPONSE_LEN / 100];
        let line = encode(&Response::BrowseList(Box::new(l)));
        assert!(line.len() < 1024, "{}", line.len());
        assert_eq!(line.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["response"], "error");
        let ok = encode(&Response::BrowseList(Box::new(sample_list())));
        let v: serde_json::Value = serde_json::from_slice(&ok).unwrap();
        assert_eq!(v["response"], "browse_list");
    }
}
