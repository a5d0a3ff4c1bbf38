//! What kind of network an address belongs to.

use std::net::IpAddr;

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrKind {
    Public,
    /// RFC 1918
    Private,
    Loopback,
    LinkLocal,
    /// RFC 6598 shared address space (100.64.0.0/10)
    Cgnat,
    /// IPv6 unique local (fc00::/7)
    UniqueLocal,
    Unspecified,
}

impl AddrKind {
    pub fn label(self) -> &'static str {
        match self {
            AddrKind::Public => "public",
            AddrKind::Private => "private",
            AddrKind::Loopback => "loopback",
            AddrKind::LinkLocal => "link-local",
            AddrKind::Cgnat => "CGNAT",
            AddrKind::UniqueLocal => "unique local",
            AddrKind::Unspecified => "unspecified",
        }
    }

    /// Not reachable from the internet: private endpoints answer with such addresses.
    pub fn is_private(self) -> bool {
        !matches!(self, AddrKind::Public)
    }
}

/// Classifies an address (IPv4-mapped IPv6 addresses as their IPv4 address).
pub fn classify(ip: IpAddr) -> AddrKind {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() {
                AddrKind::Unspecified
            } else if v4.is_loopback() {
                AddrKind::Loopback
            } else if v4.is_private() {
                AddrKind::Private
            } else if v4.is_link_local() {
                AddrKind::LinkLocal
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                AddrKind::Cgnat
            } else {
                AddrKind::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                AddrKind::Unspecified
            } else if v6.is_loopback() {
                AddrKind::Loopback
            } else if (first & 0xfe00) == 0xfc00 {
                AddrKind::UniqueLocal
            } else if (first & 0xffc0) == 0xfe80 {
                AddrKind::LinkLocal
            } else {
                AddrKind::Public
            }
        }
    }
}

pub(crate) fn addr_list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| format!("{a} ({})", classify(*a).label()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn address_kinds() {
        assert_eq!(classify(ip("10.1.2.4")), AddrKind::Private);
        assert_eq!(classify(ip("172.16.0.1")), AddrKind::Private);
        assert_eq!(classify(ip("172.32.0.1")), AddrKind::Public);
        assert_eq!(classify(ip("192.168.1.1")), AddrKind::Private);
        assert_eq!(classify(ip("127.0.0.1")), AddrKind::Loopback);
        assert_eq!(classify(ip("169.254.169.254")), AddrKind::LinkLocal);
        assert_eq!(classify(ip("100.64.0.1")), AddrKind::Cgnat);
        assert_eq!(classify(ip("100.128.0.1")), AddrKind::Public);
        assert_eq!(classify(ip("20.50.1.2")), AddrKind::Public);
        assert_eq!(classify(ip("::1")), AddrKind::Loopback);
        assert_eq!(classify(ip("fd00::1")), AddrKind::UniqueLocal);
        assert_eq!(classify(ip("fe80::1")), AddrKind::LinkLocal);
        assert_eq!(classify(ip("::ffff:10.0.0.5")), AddrKind::Private);
        assert_eq!(classify(ip("2603:1000::1")), AddrKind::Public);
        assert!(!AddrKind::Public.is_private());
    }
}
