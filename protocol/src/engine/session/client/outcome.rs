//! What the listing client yields: the server's self-description and the listings.

use core::fmt;

use crate::wire::rap::records::{ServerInfo1, ShareInfo1};

/// What the server said about itself during the handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// The dialect it chose, e.g. `NT LM 0.12`.
    pub dialect: String,
    /// DomainName of the NEGOTIATE response (Samba: its workgroup).
    pub domain_name: String,
    /// ServerName of the NEGOTIATE response (Samba: its NetBIOS name).
    pub server_name: String,
    /// NativeOS of the SESSION_SETUP_ANDX response.
    pub native_os: String,
    /// NativeLanMan of the SESSION_SETUP_ANDX response.
    pub native_lanman: String,
    /// PrimaryDomain of the SESSION_SETUP_ANDX response: the workgroup smbclient lists.
    pub primary_domain: String,
    /// Whether the session is a guest logon.
    pub guest: bool,
}

/// Why a listing holds less than the server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Incomplete {
    /// Status 234 from a call that cannot be continued (NetShareEnum): `available` entries.
    MoreData {
        /// EntriesAvailable.
        available: u16,
    },
    /// The cap on NetServerEnum2/3 calls was reached.
    RoundCap(usize),
    /// The cap on entries was reached.
    EntryCap(usize),
    /// A continuation brought no new entry.
    NoProgress,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incomplete::MoreData { available } => {
                write!(
                    f,
                    "the server has {available} entries, not all fit one reply"
                )
            }
            Incomplete::RoundCap(n) => write!(f, "stopped after {n} calls"),
            Incomplete::EntryCap(n) => write!(f, "stopped at {n} entries"),
            Incomplete::NoProgress => write!(f, "the server's continuation brought nothing new"),
        }
    }
}

/// The shares of the server (NetShareEnum level 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareListing {
    /// The shares, in the server's order.
    pub shares: Vec<ShareInfo1>,
    /// Why the list is partial, when it is.
    pub incomplete: Option<Incomplete>,
}

/// Servers or workgroups (NetServerEnum2, continued by NetServerEnum3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerListing {
    /// The entries, in the server's order, each once.
    pub servers: Vec<ServerInfo1>,
    /// RAP calls made.
    pub rounds: usize,
    /// Why the list is partial, when it is.
    pub incomplete: Option<Incomplete>,
}

/// What a completed step yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The IPC$ tree is connected; [`ListingClient::server_info`](super::ListingClient::server_info) says who answered.
    Connected,
    /// The answer to [`ListingClient::list_shares`](super::ListingClient::list_shares).
    Shares(ShareListing),
    /// The answer to [`ListingClient::list_servers`](super::ListingClient::list_servers).
    Servers(ServerListing),
    /// The tree is disconnected and the session logged off: close the connection.
    Disconnected,
}

/// What the driver does after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Write this frame, then read the reply.
    Send(Vec<u8>),
    /// Read another frame: the reply is not complete.
    Wait,
    /// The step is over.
    Done(Outcome),
}
