//! The parts of the status about operating the daemon: the election history, the list sizes
//! per workgroup and the configuration reloads.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// What happened in an election record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionKind {
    /// This host started running for master.
    Started,
    /// This host won and becomes the master.
    Won,
    /// A better candidate ended this host's run or term.
    Lost,
    /// The browser role changed.
    RoleChanged,
    /// The master of the workgroup became known.
    MasterFound,
    /// The master stopped answering or said goodbye.
    MasterLost,
}

impl ElectionKind {
    /// The kind as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ElectionKind::Started => "started",
            ElectionKind::Won => "won",
            ElectionKind::Lost => "lost",
            ElectionKind::RoleChanged => "role_changed",
            ElectionKind::MasterFound => "master_found",
            ElectionKind::MasterLost => "master_lost",
        }
    }
}

/// One browser election event or role change on an interface address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionRecord {
    /// Seconds between the event and the status.
    pub secs_ago: u64,
    /// When it happened, in seconds since 1970 (the wall clock then).
    pub unix_time: u64,
    /// What happened.
    pub kind: ElectionKind,
    /// The new role (`role_changed`) or the reason (`started`, `master_lost`); else empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The winner (`lost`) or the new master (`master_found`), when its name is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The winner's or the master's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Addr>,
}

impl ElectionRecord {
    /// The record in words, e.g. `lost the election to BRAVO (198.18.0.2)`.
    pub fn describe(&self) -> String {
        let who = match (&self.peer, self.address) {
            (Some(n), Some(a)) => format!("{n} ({a})"),
            (Some(n), None) => n.clone(),
            (None, Some(a)) => a.to_string(),
            (None, None) => "an unknown host".to_owned(),
        };
        match self.kind {
            ElectionKind::Started => format!("stood in an election: {}", self.detail),
            ElectionKind::Won => "won the election".to_owned(),
            ElectionKind::Lost => format!("lost the election to {who}"),
            ElectionKind::RoleChanged => format!("now {}", self.detail.replace('_', "-")),
            ElectionKind::MasterFound => format!("the master is {who}"),
            ElectionKind::MasterLost => format!("lost the master {who}: {}", self.detail),
        }
    }
}

/// The servers listed in one workgroup of a browse list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkgroupSize {
    /// The workgroup, escaped like a server name.
    pub workgroup: String,
    /// Its servers listed.
    pub servers: usize,
}

/// Configuration reloads (SIGHUP) since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadCounters {
    /// Reloads that loaded a valid file.
    pub applied: u64,
    /// Reloads refused: the file did not load or check; the running configuration stayed.
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_words_and_json() {
        let r = ElectionRecord {
            secs_ago: 5,
            unix_time: 1_700_000_000,
            kind: ElectionKind::Lost,
            detail: String::new(),
            peer: Some("BRAVO".into()),
            address: Some(Ipv4Addr::new(198, 18, 0, 2)),
        };
        assert_eq!(r.describe(), "lost the election to BRAVO (198.18.0.2)");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "secs_ago": 5,
                "unix_time": 1_700_000_000u64,
                "kind": "lost",
                "peer": "BRAVO",
                "address": "198.18.0.2",
            })
        );
        let back: ElectionRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        let role = ElectionRecord {
            kind: ElectionKind::RoleChanged,
            detail: "non_browser".into(),
            peer: None,
            address: None,
            ..r.clone()
        };
        assert_eq!(role.describe(), "now non-browser");
        for k in [
            ElectionKind::Started,
            ElectionKind::Won,
            ElectionKind::Lost,
            ElectionKind::RoleChanged,
            ElectionKind::MasterFound,
            ElectionKind::MasterLost,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
