//! Who is on the other end: the TCP peer, unless that peer is one of the
//! park's own proxies (`server.trusted_proxies`), in which case the address
//! the proxies recorded (`Forwarded: for=`, else `X-Forwarded-For`), read
//! from the right and past every trusted hop. A header from anyone else is
//! ignored, so no client can pick its own address.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::domain::network::Cidr;

/// The addresses a proxy recorded, nearest hop last.
fn forwarded_chain(req: &HttpRequest) -> Option<Vec<IpAddr>> {
    let headers = req.headers();
    if let Some(value) = headers.get("forwarded").and_then(|v| v.to_str().ok()) {
        let mut chain = Vec::new();
        for element in value.split(',') {
            let node = element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .map(|(_, node)| node.trim().trim_matches('"'))?;
            chain.push(parse_node(node)?);
        }
        return Some(chain);
    }
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    value.split(',').map(|n| parse_node(n.trim())).collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

/// The client's address as far as the park's own proxies can vouch for it.
pub fn client_address(req: &HttpRequest, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |address: IpAddr| trusted.iter().any(|cidr| cidr.contains(address));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_chain(req) else {
        return Some(peer);
    };
    // The rightmost address no trusted proxy claims is the client; if every
    // hop is trusted, the leftmost is as far back as anyone vouches.
    Some(
        chain
            .iter()
            .rev()
            .copied()
            .find(|address| !is_trusted(*address))
            .or_else(|| chain.first().copied())
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn request(peer: &str, header: Option<(&str, &str)>) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:5000").parse().unwrap());
        if let Some(header) = header {
            req = req.insert_header(header);
        }
        req.to_http_request()
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let forwarded = Some(("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 10.0.0.3"));
        assert_eq!(
            client_address(&request("10.0.0.2", forwarded), &trusted),
            Some(ip("203.0.113.7")),
            "the rightmost address no trusted proxy claims"
        );
        assert_eq!(
            client_address(&request("192.0.2.9", forwarded), &trusted),
            Some(ip("192.0.2.9")),
            "a header from an untrusted peer is ignored"
        );
        assert_eq!(
            client_address(
                &request(
                    "10.0.0.2",
                    Some(("Forwarded", "for=\"[2001:db8::1]:4711\";proto=https"))
                ),
                &trusted
            ),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            client_address(
                &request("10.0.0.2", Some(("X-Forwarded-For", "garbage"))),
                &trusted
            ),
            Some(ip("10.0.0.2")),
            "a malformed header is ignored"
        );
    }
}
