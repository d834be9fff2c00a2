//! A backup browser's copy of the master's browse list (MS-BRWS 3.3.1): when the browser asks
//! for it, a task lists the master's servers and workgroups over TCP 139 (RAP NetServerEnum2,
//! as `smbclient -L` does) and hands them to the main loop, which merges what the backup did not
//! hear itself.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, info};

use super::Daemon;
use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::CopiedServer;
use crate::protocol::wire::browse::{ServerName, ServerType};
use crate::smbclient::{Session, Target};

/// How long the master has for each step of the listing.
const COPY_TIMEOUT: Duration = Duration::from_secs(10);

/// The master's servers of our workgroup and its workgroups with their masters.
type MasterList = (Vec<CopiedServer>, Vec<(ServerName, ServerName)>);

/// What a copy brought back.
pub(super) struct Copied {
    iface: IfaceId,
    master: Ipv4Addr,
    result: Result<MasterList, String>,
}

/// Lists the master's servers of `workgroup` and its workgroups.
async fn fetch(master: SocketAddrV4, workgroup: ServerName) -> Result<MasterList, String> {
    let target = Target {
        addr: master,
        name: None,
        label: master.ip().to_string(),
    };
    let mut s = Session::open(&target, COPY_TIMEOUT, false)
        .await
        .map_err(|e| e.message())?;
    let servers = s
        .servers(ServerType::ALL - ServerType::DOMAIN_ENUM, workgroup)
        .await
        .map_err(|e| e.message())?;
    let workgroups = s
        .servers(ServerType::DOMAIN_ENUM, workgroup)
        .await
        .map_err(|e| e.message())?;
    s.close().await;
    Ok((
        servers
            .servers
            .into_iter()
            .map(|e| {
                (
                    e.name,
                    e.server_type,
                    (e.version_major, e.version_minor),
                    e.comment,
                )
            })
            .collect(),
        workgroups
            .servers
            .into_iter()
            .map(|e| {
                let master = ServerName::from_bytes(&e.comment[..e.comment.len().min(15)])
                    .unwrap_or_default();
                (e.name, master)
            })
            .collect(),
    ))
}

impl Daemon {
    /// Starts copying the list of `master` for interface `iface`; the result comes back on
    /// `done`.
    pub(super) fn start_copy(&self, iface: IfaceId, master: Ipv4Addr, done: mpsc::Sender<Copied>) {
        let addr = SocketAddrV4::new(master, self.settings.ports.session);
        let workgroup = ServerName::from_netbios_name(&self.settings.workgroup).unwrap_or_default();
        tokio::spawn(async move {
            let result = fetch(addr, workgroup).await;
            let _ = done
                .send(Copied {
                    iface,
                    master,
                    result,
                })
                .await;
        });
    }

    /// Merges a copy into the browse list of its interface.
    pub(super) fn finish_copy(&mut self, c: Copied) {
        match c.result {
            Ok((servers, workgroups)) => {
                let added = self.node.browser_mut().list_copied(
                    Instant::now(),
                    c.iface,
                    &servers,
                    &workgroups,
                );
                if added > 0 {
                    self.persist.touch();
                    info!(
                        master = %c.master, added,
                        "copied {} from the master's browse list",
                        crate::plural::plural(added, "entry", "entries")
                    );
                } else {
                    debug!(master = %c.master, listed = servers.len(), "the master's list holds nothing new");
                }
            }
            Err(e) => {
                debug!(master = %c.master, error = %e, "cannot copy the master's browse list")
            }
        }
    }
}
