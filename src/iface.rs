//! Network interfaces: which IPv4 broadcast interfaces nbtd and `nbt` use, with the MAC address
//! that node status reports as the unit ID.
//!
//! Rules, in order:
//! - an interface named in the deny list is skipped;
//! - if the allow list is not empty, only interfaces it names are used;
//! - loopback is skipped unless the allow list names it;
//! - container and virtual bridges (`docker*`, `veth*`, `br-*`, `virbr*`) are skipped unless the
//!   allow list names them;
//! - an interface must be up and have an IPv4 address with a broadcast address.
//!
//! Patterns are interface names where `*` matches any run of characters.

use std::net::Ipv4Addr;

use ipnetwork::IpNetwork;

/// Container and virtual bridge interfaces skipped by default.
pub const DEFAULT_SKIPPED: [&str; 4] = ["docker*", "veth*", "br-*", "virbr*"];

/// One IPv4 address of a usable interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// Operating system interface index.
    pub index: u32,
    /// The interface's IPv4 address.
    pub addr: Ipv4Addr,
    /// Prefix length of the subnet.
    pub prefix: u8,
    /// Subnet mask.
    pub netmask: Ipv4Addr,
    /// Subnet broadcast address.
    pub broadcast: Ipv4Addr,
    /// MAC address; all zeros when the interface has none.
    pub mac: [u8; 6],
}

impl Interface {
    /// Whether `ip` lies in this interface's subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask);
        u32::from(ip) & m == u32::from(self.addr) & m
    }
}

/// Why an interface is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// It matches the deny list.
    Denied,
    /// The allow list is not empty and does not name it.
    NotAllowed,
    /// It is a loopback interface.
    Loopback,
    /// It is a container or virtual bridge (see [`DEFAULT_SKIPPED`]).
    VirtualBridge,
    /// It is down.
    Down,
    /// It has no IPv4 address with a broadcast address.
    NoIpv4Broadcast,
}

impl SkipReason {
    /// A short explanation for logs and error messages.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Denied => "in the deny list",
            SkipReason::NotAllowed => "not in the allow list",
            SkipReason::Loopback => "loopback (name it in the allow list to use it)",
            SkipReason::VirtualBridge => {
                "container or virtual bridge (name it in the allow list to use it)"
            }
            SkipReason::Down => "down",
            SkipReason::NoIpv4Broadcast => "no IPv4 address with a broadcast address",
        }
    }
}

/// Allow and deny lists of interface name patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// If not empty, only these interfaces are used.
    pub allow: Vec<String>,
    /// These interfaces are never used.
    pub deny: Vec<String>,
}

impl Filter {
    fn allowed_explicitly(&self, name: &str) -> bool {
        self.allow.iter().any(|p| glob(p, name))
    }

    /// Decides on an interface by name and kind; `None` means it may be used.
    pub fn check(&self, name: &str, loopback: bool) -> Option<SkipReason> {
        if self.deny.iter().any(|p| glob(p, name)) {
            return Some(SkipReason::Denied);
        }
        let explicit = self.allowed_explicitly(name);
        if !self.allow.is_empty() && !explicit {
            return Some(SkipReason::NotAllowed);
        }
        if loopback && !explicit {
            return Some(SkipReason::Loopback);
        }
        if !explicit && DEFAULT_SKIPPED.iter().any(|p| glob(p, name)) {
            return Some(SkipReason::VirtualBridge);
        }
        None
    }
}

/// Matches `name` against `pattern`, where `*` matches any run of characters.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The interfaces of this host: the usable ones (one entry per IPv4 address), and the skipped
/// ones with the reason, each name once.
pub fn scan(filter: &Filter) -> (Vec<Interface>, Vec<(String, SkipReason)>) {
    let mut used = Vec::new();
    let mut skipped = Vec::new();
    for i in pnet_datalink::interfaces() {
        if let Some(r) = filter.check(&i.name, i.is_loopback()) {
            skipped.push((i.name, r));
            continue;
        }
        if !i.is_up() {
            skipped.push((i.name, SkipReason::Down));
            continue;
        }
        let mac = i.mac.map(|m| m.octets()).unwrap_or_default();
        let before = used.len();
        for ip in &i.ips {
            let IpNetwork::V4(net) = ip else { continue };
            // A /32 or /31 has no broadcast address to speak NetBIOS on.
            if net.prefix() >= 31 && !i.is_loopback() {
                continue;
            }
            used.push(Interface {
                name: i.name.clone(),
                index: i.index,
                addr: net.ip(),
                prefix: net.prefix(),
                netmask: net.mask(),
                broadcast: net.broadcast(),
                mac,
            });
        }
        if used.len() == before {
            skipped.push((i.name, SkipReason::NoIpv4Broadcast));
        }
    }
    (used, skipped)
}

/// Whether interface `name` is up and still has IPv4 address `addr`, whatever the filter says:
/// an address dropped from service while this holds can still send its goodbyes.
pub fn still_has(name: &str, addr: Ipv4Addr) -> bool {
    pnet_datalink::interfaces().into_iter().any(|i| {
        i.name == name
            && i.is_up()
            && i.ips
                .iter()
                .any(|ip| matches!(ip, IpNetwork::V4(net) if net.ip() == addr))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches() {
        assert!(glob("veth*", "veth1a2b"));
        assert!(glob("br-*", "br-1234"));
        assert!(!glob("br-*", "br0"));
        assert!(glob("*", "anything"));
        assert!(glob("eth0", "eth0"));
        assert!(!glob("eth0", "eth01"));
        assert!(glob("e*h*", "ethh"));
        assert!(glob("*0", "lan0"));
    }

    #[test]
    fn default_rules() {
        let f = Filter::default();
        assert_eq!(f.check("eth0", false), None);
        assert_eq!(f.check("lo", true), Some(SkipReason::Loopback));
        assert_eq!(f.check("docker0", false), Some(SkipReason::VirtualBridge));
        assert_eq!(f.check("virbr0", false), Some(SkipReason::VirtualBridge));
        assert_eq!(f.check("veth12", false), Some(SkipReason::VirtualBridge));
        assert_eq!(f.check("br-abc", false), Some(SkipReason::VirtualBridge));
    }

    #[test]
    fn lists() {
        let f = Filter {
            allow: vec!["docker0".into(), "lo".into(), "eth*".into()],
            deny: vec!["eth1".into()],
        };
        assert_eq!(f.check("docker0", false), None, "explicitly allowed");
        assert_eq!(f.check("lo", true), None, "explicitly allowed");
        assert_eq!(f.check("eth0", false), None);
        assert_eq!(f.check("eth1", false), Some(SkipReason::Denied));
        assert_eq!(f.check("wlan0", false), Some(SkipReason::NotAllowed));
    }

    #[test]
    fn subnet_membership() {
        let i = Interface {
            name: "lan0".into(),
            index: 2,
            addr: Ipv4Addr::new(198, 18, 0, 1),
            prefix: 24,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(198, 18, 0, 255),
            mac: [0; 6],
        };
        assert!(i.contains(Ipv4Addr::new(198, 18, 0, 77)));
        assert!(!i.contains(Ipv4Addr::new(198, 19, 0, 77)));
    }
}

/// The kernel's IPv4 neighbour table.
const ARP_TABLE: &str = "/proc/net/arp";
/// Most of the neighbour table read: it is small, but a bound costs nothing.
const MAX_ARP_BYTES: u64 = 1 << 20;

/// The MAC address the kernel's neighbour table has for `addr`, as `aa:bb:cc:dd:ee:ff`.
pub fn neighbour_mac(addr: Ipv4Addr) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(ARP_TABLE)
        .ok()?
        .take(MAX_ARP_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    mac_in_arp_table(&text, addr)
}

/// The MAC of `addr` in the text of /proc/net/arp (`IP address  HW type  Flags  HW address
/// Mask  Device`), unless incomplete (all zero).
fn mac_in_arp_table(text: &str, addr: Ipv4Addr) -> Option<String> {
    let want = addr.to_string();
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&want.as_str()))
            .then(|| f.get(3).map(|m| m.to_lowercase()))
            .flatten()
            .filter(|m| m != "00:00:00:00:00:00")
    })
}

#[cfg(test)]
mod arp_tests {
    use super::*;

    const TABLE: &str = "IP address       HW type     Flags       HW address            Mask     Device\n\
198.18.0.2       0x1         0x2         AE:12:34:56:78:9A     *        lan0\n\
198.18.0.3       0x1         0x0         00:00:00:00:00:00     *        lan0\n";

    #[test]
    fn reads_the_mac_of_a_neighbour_and_not_an_incomplete_one() {
        assert_eq!(
            mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 2)).as_deref(),
            Some("ae:12:34:56:78:9a")
        );
        assert_eq!(mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 3)), None);
        assert_eq!(mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 4)), None);
    }
}
