//! The addresses a token may be used from, when its creator pins it (as Stripe pins
//! keys): IPv4 and IPv6 networks or single addresses, checked on every MCP call against
//! the address the request came from.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::error::Error;

pub const MAX_ALLOWED_IPS: usize = 20;
/// Longer than any address or network written out; a longer entry is not one.
const MAX_ENTRY_CHARS: usize = 64;

/// A non-empty list of networks, in the order given, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedIps(Vec<IpNet>);

impl AllowedIps {
    /// Entries as a caller writes them: `203.0.113.0/24`, `2001:db8::/32`, `198.51.100.7`.
    /// A network written with host bits (`203.0.113.9/24`) means its network. No entries
    /// means no restriction.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Option<AllowedIps>, Error> {
        if entries.len() > MAX_ALLOWED_IPS {
            return Err(invalid(format!(
                "allowed_ips may list at most {MAX_ALLOWED_IPS} addresses or networks"
            )));
        }
        let mut nets: Vec<IpNet> = Vec::with_capacity(entries.len());
        for entry in entries {
            let net = parse_entry(entry.as_ref().trim())?;
            if !nets.contains(&net) {
                nets.push(net);
            }
        }
        Ok((!nets.is_empty()).then_some(AllowedIps(nets)))
    }

    /// Whether a request from `ip` may use the token. An IPv4 address seen through an
    /// IPv6 socket (`::ffff:203.0.113.7`) is the IPv4 address.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(IpNet::to_string).collect()
    }
}

fn parse_entry(entry: &str) -> Result<IpNet, Error> {
    let shown: String = entry.chars().take(MAX_ENTRY_CHARS).collect();
    let net = if entry.chars().count() > MAX_ENTRY_CHARS {
        None
    } else if entry.contains('/') {
        IpNet::from_str(entry).ok()
    } else {
        IpAddr::from_str(entry)
            .ok()
            .map(|ip| IpNet::from(ip.to_canonical()))
    };
    net.map(|n| n.trunc()).ok_or_else(|| {
        invalid(format!(
            "\"{shown}\" is not an IP address or network; write addresses like 203.0.113.7 or 2001:db8::1, networks like 203.0.113.0/24 or 2001:db8::/32"
        ))
    })
}

fn invalid(message: String) -> Error {
    Error::bad_request("invalid_allowed_ips", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_and_addresses_of_both_families_are_checked() {
        let list = AllowedIps::parse(&["203.0.113.0/24", "2001:db8::/32", " 198.51.100.7 "])
            .unwrap()
            .unwrap();
        assert_eq!(
            list.to_strings(),
            ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
        );
        for allowed in [
            "203.0.113.0",
            "203.0.113.255",
            "2001:db8:ffff::1",
            "198.51.100.7",
            "::ffff:203.0.113.9",
        ] {
            assert!(list.permits(ip(allowed)), "{allowed}");
        }
        for refused in [
            "203.0.114.1",
            "198.51.100.8",
            "2001:db9::1",
            "::1",
            "127.0.0.1",
        ] {
            assert!(!list.permits(ip(refused)), "{refused}");
        }
    }

    #[test]
    fn host_bits_mean_the_network_and_duplicates_collapse() {
        let list = AllowedIps::parse(&["203.0.113.9/24", "203.0.113.0/24"])
            .unwrap()
            .unwrap();
        assert_eq!(list.to_strings(), ["203.0.113.0/24"]);
        assert_eq!(AllowedIps::parse::<&str>(&[]).unwrap(), None);
    }

    #[test]
    fn anything_else_is_a_400_that_names_the_entry() {
        for bad in [
            "",
            "localhost",
            "203.0.113.0/33",
            "2001:db8::/129",
            "1.2.3",
            "fe80::1%eth0",
            "203.0.113.0/24/1",
            &"1".repeat(200),
        ] {
            let err = AllowedIps::parse(&[bad]).unwrap_err();
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (400, "invalid_allowed_ips"),
                "{bad}"
            );
        }
        let err = AllowedIps::parse(&["10.0.0.1"; 21]).unwrap_err();
        assert!(err.to_string().contains("at most 20"));
        assert!(AllowedIps::parse(&["nope"])
            .unwrap_err()
            .to_string()
            .contains("\"nope\""));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any list of strings is an allowlist or a 400, never a panic; an admitted
            /// address entry permits exactly itself among its neighbours.
            #[test]
            fn any_entries_parse_or_are_refused(entries in proptest::collection::vec("\\PC{0,24}", 0..24)) {
                match AllowedIps::parse(&entries) {
                    Ok(list) => prop_assert!(list.is_none_or(|l| (1..=MAX_ALLOWED_IPS).contains(&l.to_strings().len()))),
                    Err(e) => prop_assert_eq!(e.status(), 400),
                }
            }

            #[test]
            fn a_network_permits_its_addresses_and_no_others(addr in any::<u32>(), prefix in 0u8..=32, probe in any::<u32>()) {
                let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(addr), prefix).unwrap().trunc();
                let list = AllowedIps::parse(&[format!("{}/{prefix}", std::net::Ipv4Addr::from(addr))]).unwrap().unwrap();
                let probe = std::net::Ipv4Addr::from(probe);
                prop_assert_eq!(list.permits(IpAddr::V4(probe)), net.contains(&probe));
                prop_assert!(list.permits(IpAddr::V4(std::net::Ipv4Addr::from(addr))));
            }
        }
    }
}
