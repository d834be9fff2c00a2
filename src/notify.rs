//! sd_notify: tells systemd (a `Type=notify` unit) when nbtd is ready, reloading and stopping.
//!
//! When `NOTIFY_SOCKET` is set, each message is one datagram to that Unix socket: a path, or an
//! abstract address written `@name`. Without it every call does nothing, so nbtd behaves the
//! same outside systemd. A failed send is logged at debug level and otherwise ignored: the
//! service manager's timeout reports it.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Where notifications go, when a service manager asked for them.
#[derive(Debug)]
pub struct Notifier {
    target: Option<SocketAddr>,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for, or one that does nothing when it is not set.
    pub fn from_env() -> Notifier {
        let target = std::env::var_os(NOTIFY_SOCKET).and_then(|v| {
            let v = v.to_string_lossy().into_owned();
            match address(&v) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!(
                        "{NOTIFY_SOCKET}={v:?} is not a usable socket address ({e}); \
                         not notifying the service manager"
                    );
                    None
                }
            }
        });
        Notifier { target }
    }

    /// Whether a service manager listens.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Sends one notification (lines of `KEY=value`).
    pub fn send(&self, message: &str) {
        let Some(target) = &self.target else {
            return;
        };
        let r = UnixDatagram::unbound().and_then(|s| s.send_to_addr(message.as_bytes(), target));
        if let Err(e) = r {
            tracing::debug!(error = %e, "cannot notify the service manager");
        }
    }

    /// `READY=1` with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// `RELOADING=1` with the monotonic time systemd wants for `Type=notify-reload`.
    pub fn reloading(&self) {
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading the configuration",
            crate::sys::monotonic_usec()
        ));
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=releasing names and stopping");
    }

    /// A new status line.
    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// The socket address `NOTIFY_SOCKET` names: a path, or `@name` for an abstract address.
fn address(v: &str) -> io::Result<SocketAddr> {
    if let Some(name) = v.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes())
    } else if v.starts_with('/') {
        SocketAddr::from_pathname(v)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "neither an absolute path nor an @abstract name",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn recv(s: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = s.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn notifies_paths_and_abstract_addresses() {
        let dir = std::env::temp_dir().join(format!("nbtd-notify-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier {
            target: Some(address(path.to_str().unwrap()).unwrap()),
        };
        assert!(n.enabled());
        n.ready("serving 2\naddresses");
        assert_eq!(recv(&listener), "READY=1\nSTATUS=serving 2 addresses");
        n.reloading();
        let m = recv(&listener);
        assert!(m.starts_with("RELOADING=1\nMONOTONIC_USEC="), "{m}");
        let usec: u64 = m.lines().nth(1).unwrap()["MONOTONIC_USEC=".len()..]
            .parse()
            .unwrap();
        assert!(usec > 0);
        n.stopping();
        assert!(recv(&listener).starts_with("STOPPING=1\n"));
        let _ = std::fs::remove_dir_all(&dir);

        use std::os::linux::net::SocketAddrExt;
        let name = format!("nbtd-notify-unit-{}", std::process::id());
        let abs = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&abs).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier {
            target: Some(address(&format!("@{name}")).unwrap()),
        };
        n.status("hello");
        assert_eq!(recv(&listener), "STATUS=hello");

        assert!(address("relative/path").is_err());
        let off = Notifier { target: None };
        assert!(!off.enabled());
        off.ready("nobody listens");
    }
}
