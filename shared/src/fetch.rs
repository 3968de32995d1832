//! Documents read from elsewhere over HTTPS, bounded in size and time (feature `fetch`):
//! GitHub's secret scanning keys, and the Client ID Metadata Documents that MCP clients
//! name themselves by. Only Mozilla's roots (webpki) are trusted, and redirects are not
//! followed.
//!
//! A URL a stranger chose (a client id) is read only from public addresses: a client
//! must not get the consent function to reach what sits beside it — the Lambda runtime
//! API on loopback, anything in a VPC. The check is made on the address connected to,
//! after name resolution, so a name that resolves to a private address (DNS rebinding
//! included) is refused too.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::BoxError;

/// Which addresses a [`Fetcher`] may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any, by https or http: a URL the deployment itself configured.
    Configured,
    /// Public addresses by https only: a URL a stranger chose.
    Public,
    /// Public addresses by https, and this machine by http: the local server's, whose
    /// tests serve documents on loopback.
    PublicAndLoopback,
}

/// Reads documents, each within `timeout` and `max_bytes`.
pub struct Fetcher {
    client: Client<HttpsConnector<HttpConnector<Resolver>>, Empty<Bytes>>,
    reach: Reach,
    timeout: Duration,
    max_bytes: usize,
}

impl Fetcher {
    pub fn new(reach: Reach, timeout: Duration, max_bytes: usize) -> Fetcher {
        let mut http = HttpConnector::new_with_resolver(Resolver { reach });
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots();
        let https = match reach {
            Reach::Public => https.https_only(),
            Reach::Configured | Reach::PublicAndLoopback => https.https_or_http(),
        };
        Fetcher {
            client: Client::builder(TokioExecutor::new())
                .build(https.enable_http1().wrap_connector(http)),
            reach,
            timeout,
            max_bytes,
        }
    }

    /// The body of a 200 answer to `GET url`, asking for `accept`.
    pub async fn get(&self, url: &str, accept: &'static str) -> Result<Bytes, BoxError> {
        let uri: http::Uri = url.parse()?;
        let host = uri.host().ok_or("the URL has no host")?;
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>();
        // A literal address is connected to without resolution: check it here.
        if let Ok(ip) = literal {
            if !self.reach.allows(ip) {
                return Err(format!("{host} is not a public address").into());
            }
        }
        if uri.scheme_str() == Some("http") && self.reach != Reach::Configured {
            let loopback = literal.is_ok_and(|ip| ip.is_loopback()) || host == "localhost";
            if !(self.reach == Reach::PublicAndLoopback && loopback) {
                return Err("only https:// URLs are read".into());
            }
        }
        let request = http::Request::get(uri)
            .header(http::header::USER_AGENT, "knotie-mcp-tokens")
            .header(http::header::ACCEPT, accept)
            .body(Empty::new())?;
        let read = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| explained(&e))?;
            if response.status() != http::StatusCode::OK {
                return Err(format!("it answered {}", response.status()).into());
            }
            let body = Limited::new(response.into_body(), self.max_bytes);
            let body = body.collect().await.map_err(|e| -> BoxError {
                match e.downcast_ref::<http_body_util::LengthLimitError>() {
                    Some(_) => format!("it is over {} bytes", self.max_bytes).into(),
                    None => e,
                }
            })?;
            Ok::<Bytes, BoxError>(body.to_bytes())
        };
        match tokio::time::timeout(self.timeout, read).await {
            Ok(read) => read,
            Err(_) => Err(format!("it did not answer within {:?}", self.timeout).into()),
        }
    }
}

/// An error and its causes, on one line: the connector's reason is in the sources.
fn explained(e: &(dyn std::error::Error + 'static)) -> BoxError {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text.into()
}

impl Reach {
    fn allows(self, ip: IpAddr) -> bool {
        match self {
            Reach::Configured => true,
            Reach::Public => is_public(ip),
            Reach::PublicAndLoopback => is_public(ip) || ip.is_loopback(),
        }
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), unique-local, multicast, documentation or unspecified — IPv4
/// addresses mapped into IPv6 judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let [first, second, ..] = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && second == 0x0db8)
                || first == 0x0064)
        }
    }
}

/// Name resolution that keeps only the addresses a [`Reach`] allows.
#[derive(Clone)]
struct Resolver {
    reach: Reach,
}

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let reach = self.reach;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found.filter(|a| reach.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            Ok(allowed.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "160.79.104.10",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_strangers_url_reaches_no_private_address_and_no_plain_http() {
        let fetcher = Fetcher::new(Reach::Public, Duration::from_secs(1), 1024);
        for url in [
            "https://127.0.0.1/client.json",
            "https://[::1]/client.json",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/client.json",
            "http://example.com/client.json",
        ] {
            let err = fetcher.get(url, "application/json").await.unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("public") || message.contains("https://"),
                "{url}: {message}"
            );
        }
    }
}
