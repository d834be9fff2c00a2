//! IPv4 ranges for `nbt scan`: `ADDRESS/PREFIX` or one address, at most a /16.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Smallest prefix length `nbt scan` accepts: a /16 is 65,536 addresses.
pub const MIN_PREFIX: u8 = 16;

/// An IPv4 network: its first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address (host bits cleared).
    pub network: Ipv4Addr,
    /// Prefix length, 0 to 32.
    pub prefix: u8,
}

impl Cidr {
    /// Number of addresses in the network.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// The addresses to probe: every address, without the network and broadcast addresses
    /// when the prefix is /30 or shorter (a /31 or /32 has none).
    pub fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> + use<> {
        let first = u64::from(u32::from(self.network));
        let last = first + self.size() - 1;
        let (lo, hi) = if self.prefix <= 30 {
            (first + 1, last - 1)
        } else {
            (first, last)
        };
        (lo..=hi).map(|a| Ipv4Addr::from(a as u32))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Why a range was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    /// Not `ADDRESS/PREFIX` or an address.
    Syntax(String),
    /// Larger than a /16.
    TooLarge(Cidr),
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidrError::Syntax(s) => write!(
                f,
                "{s:?} is not a range: write ADDRESS/PREFIX (e.g. 192.168.1.0/24) or one address"
            ),
            CidrError::TooLarge(c) => write!(
                f,
                "{c} holds {} addresses; nbt scans at most a /{MIN_PREFIX} ({} addresses) at a \
                 time: split the range into /{MIN_PREFIX}s or smaller",
                c.size(),
                1u64 << (32 - MIN_PREFIX)
            ),
        }
    }
}

impl std::error::Error for CidrError {}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Reads `ADDRESS/PREFIX` (host bits are cleared) or `ADDRESS` (a /32).
    fn from_str(s: &str) -> Result<Self, CidrError> {
        let syntax = || CidrError::Syntax(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => {
                let p: u8 = p.parse().map_err(|_| syntax())?;
                (a, p)
            }
            None => (s.trim(), 32),
        };
        if prefix > 32 {
            return Err(syntax());
        }
        let addr: Ipv4Addr = addr.parse().map_err(|_| syntax())?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        };
        let c = Cidr {
            network: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        };
        if prefix < MIN_PREFIX {
            return Err(CidrError::TooLarge(c));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_normalize() {
        let c: Cidr = "198.18.0.7/24".parse().unwrap();
        assert_eq!(c.to_string(), "198.18.0.0/24");
        assert_eq!(c.size(), 256);
        let one: Cidr = "198.18.0.7".parse().unwrap();
        assert_eq!(one.to_string(), "198.18.0.7/32");
        for bad in [
            "",
            "x",
            "198.18.0.0/",
            "198.18.0.0/33",
            "198.18.0/24",
            "1.2.3.4/-1",
        ] {
            assert!(
                matches!(bad.parse::<Cidr>(), Err(CidrError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_more_than_a_slash_16() {
        assert!("10.0.0.0/16".parse::<Cidr>().is_ok());
        let e = "10.0.0.0/15".parse::<Cidr>().unwrap_err();
        assert!(matches!(e, CidrError::TooLarge(_)));
        let m = e.to_string();
        assert!(m.contains("131072") && m.contains("split"), "{m}");
        assert!("0.0.0.0/0".parse::<Cidr>().is_err());
    }

    #[test]
    fn hosts_skip_network_and_broadcast() {
        let c: Cidr = "198.18.0.0/24".parse().unwrap();
        let h: Vec<Ipv4Addr> = c.hosts().collect();
        assert_eq!(h.len(), 254);
        assert_eq!(h[0], Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(h[253], Ipv4Addr::new(198, 18, 0, 254));
        let p: Cidr = "10.0.0.4/30".parse().unwrap();
        assert_eq!(p.hosts().count(), 2);
        let p: Cidr = "10.0.0.4/31".parse().unwrap();
        assert_eq!(p.hosts().count(), 2);
        let one: Cidr = "255.255.255.255/32".parse().unwrap();
        assert_eq!(one.hosts().collect::<Vec<_>>(), [Ipv4Addr::BROADCAST]);
        let big: Cidr = "10.1.0.0/16".parse().unwrap();
        assert_eq!(big.hosts().count(), 65534);
        assert_eq!(big.hosts().last(), Some(Ipv4Addr::new(10, 1, 255, 254)));
    }
}
