//! Which client a request comes from, for the per-address bounds.
//!
//! A request's client is the TCP peer, unless that peer is a configured
//! trusted proxy: then it is the address the proxy appended to
//! `X-Forwarded-For` (the rightmost entry that is not itself a trusted
//! proxy). Entries left of that are whatever the client wrote, so they are
//! never believed. Bounds count an IPv6 client by its /64 (one host usually
//! holds a whole /64, so counting single addresses would bound nothing),
//! and an IPv4-mapped IPv6 address as the IPv4 address it is.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// The addresses whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    pub fn new(proxies: &[IpAddr]) -> Self {
        TrustedProxies(proxies.iter().map(|ip| ip.to_canonical()).collect())
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }

    /// The client address of a request from TCP peer `peer`.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.ip().to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for entry in forwarded.into_iter().rev() {
            // A proxy that writes something unparsable is misconfigured:
            // fall back to the proxy itself rather than a guess.
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                return peer;
            };
            if !self.contains(ip) {
                return ip.to_canonical();
            }
        }
        peer
    }
}

/// The key a client is counted under: IPv4 as is, IPv6 by its /64.
pub fn bound_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn addr(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 40000)
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::new(&["10.0.0.1".parse().unwrap()]);
        let h = headers(&["6.6.6.6, 203.0.113.7"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(proxies.client(addr("10.0.0.1"), &h), ip("203.0.113.7"));
        assert_eq!(proxies.client(addr("198.51.100.2"), &h), ip("198.51.100.2"));
        // Chained proxies: the rightmost untrusted entry.
        let chained = TrustedProxies::new(&[ip("10.0.0.1"), ip("10.0.0.2")]);
        let h = headers(&["6.6.6.6", "203.0.113.7, 10.0.0.2"]);
        assert_eq!(chained.client(addr("10.0.0.1"), &h), ip("203.0.113.7"));
        // No header or garbage: the proxy itself.
        assert_eq!(
            proxies.client(addr("10.0.0.1"), &headers(&[])),
            ip("10.0.0.1")
        );
        let garbage = headers(&["1.2.3.4, nonsense"]);
        assert_eq!(proxies.client(addr("10.0.0.1"), &garbage), ip("10.0.0.1"));
        // A mapped address is the IPv4 one.
        assert_eq!(
            proxies.client(addr("::ffff:10.0.0.1"), &headers(&["1.2.3.4"])),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = bound_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = bound_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = bound_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(bound_key("::ffff:192.0.2.1".parse().unwrap()), v4);
    }
}
