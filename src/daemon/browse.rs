//! The browser as the control socket shows it: the role, master and list sizes in the status,
//! and the browse list of a workgroup.

use std::time::Instant;

use super::Daemon;
use crate::control::{
    BrowseInterface, BrowseListReply, BrowseServer, BrowseWorkgroup, InterfaceBrowser,
    MasterStatus, Request, Response,
};
use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::Role;
use crate::protocol::engine::browser::list::BrowseList;
use crate::protocol::wire::browse::ServerName;
use crate::state::{escape, unescape};

impl Daemon {
    /// The answer to a control request.
    pub(super) fn answer(&self, request: Request) -> Response {
        match request {
            Request::Status => Response::Status(Box::new(self.status())),
            Request::BrowseList { workgroup } => match self.browse_list(workgroup.as_deref()) {
                Ok(l) => Response::BrowseList(Box::new(l)),
                Err(message) => Response::Error { message },
            },
        }
    }

    /// The browser on one interface address, for the status.
    pub(super) fn interface_browser(&self, id: IfaceId) -> InterfaceBrowser {
        let b = self.node.browser();
        let list = b.list(id);
        InterfaceBrowser {
            role: b.role(id).unwrap_or(Role::NonBrowser).into(),
            master: self.master(id),
            servers: list.map_or(0, BrowseList::server_count),
            workgroups: list.map_or(0, BrowseList::workgroup_count),
            per_workgroup: list.map_or_else(Vec::new, |l| {
                l.servers_per_workgroup()
                    .map(|(w, servers)| crate::control::WorkgroupSize {
                        workgroup: escape(w.as_bytes()),
                        servers,
                    })
                    .collect()
            }),
            elections: self.history.of(Instant::now(), id),
        }
    }

    fn master(&self, id: IfaceId) -> Option<MasterStatus> {
        self.node
            .browser()
            .master(id)
            .map(|(name, address)| MasterStatus {
                name: name.map(|n| escape(n.as_bytes())),
                address,
            })
    }

    /// The browse list of `workgroup` (ours when `None`) on every interface address.
    fn browse_list(&self, workgroup: Option<&str>) -> Result<BrowseListReply, String> {
        let ours = ServerName::from_netbios_name(&self.settings.workgroup)
            .map_err(|e| format!("our workgroup cannot be listed: {e}"))?;
        let wg = match workgroup {
            None => ours,
            Some(text) => parse_workgroup(text)?,
        };
        let now = Instant::now();
        let secs_left = |at: Instant| at.saturating_duration_since(now).as_secs();
        let b = self.node.browser();
        let interfaces = self
            .ifaces
            .served()
            .map(|s| {
                let list = b.list(s.id);
                BrowseInterface {
                    interface: s.iface.name.clone(),
                    address: s.iface.addr,
                    role: b.role(s.id).unwrap_or(Role::NonBrowser).into(),
                    master: self.master(s.id),
                    servers: list
                        .into_iter()
                        .flat_map(|l| l.servers(&wg))
                        .map(|e| BrowseServer {
                            name: escape(e.name.as_bytes()),
                            server_type: e.server_type.bits(),
                            version: [e.version.0, e.version.1],
                            comment: escape(&e.comment),
                            address: e.addr,
                            periodicity_secs: e.periodicity.as_secs(),
                            expires_in_secs: secs_left(e.expires()),
                        })
                        .collect(),
                    workgroups: list
                        .into_iter()
                        .flat_map(BrowseList::workgroups)
                        .map(|w| BrowseWorkgroup {
                            name: escape(w.name.as_bytes()),
                            master: escape(w.master.as_bytes()),
                            address: w.addr,
                            expires_in_secs: secs_left(w.expires()),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(BrowseListReply {
            workgroup: escape(&upper(&wg)),
            our_workgroup: escape(ours.as_bytes()),
            interfaces,
        })
    }
}

/// A workgroup as a client writes it: any case, `\xNN` for other bytes, 1 to 15 bytes.
fn parse_workgroup(text: &str) -> Result<ServerName, String> {
    let bytes = unescape(text).map_err(|e| format!("workgroup {text:?}: {e}"))?;
    if bytes.is_empty() {
        return Err("the workgroup is empty: give a name, or leave the field out for ours".into());
    }
    ServerName::from_bytes(&bytes).map_err(|e| format!("workgroup {text:?} is not valid: {e}"))
}

fn upper(n: &ServerName) -> Vec<u8> {
    n.as_bytes().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workgroups_from_clients() {
        assert_eq!(parse_workgroup("labwg").unwrap().as_bytes(), b"labwg");
        assert_eq!(upper(&parse_workgroup("labwg").unwrap()), b"LABWG");
        assert_eq!(parse_workgroup("caf\\xe9").unwrap().as_bytes(), b"caf\xe9");
        assert!(parse_workgroup("").unwrap_err().contains("empty"));
        assert!(parse_workgroup("A-NAME-FAR-TOO-LONG").is_err());
        assert!(parse_workgroup("bad\\q").is_err());
    }
}
