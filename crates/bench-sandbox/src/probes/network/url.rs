//! Just enough of RFC 3986 for `http://` and `https://` URLs: parse, print
//! without the userinfo (labels never carry passwords), and resolve a
//! redirect's `Location` (absolute, scheme-relative, absolute-path or
//! relative) against the URL that answered.

use std::fmt;
use std::net::IpAddr;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP, default port 80.
    Http,
    /// HTTP over TLS, default port 443.
    Https,
}

impl Scheme {
    /// The scheme's default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed `http(s)://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme.
    pub scheme: Scheme,
    /// `user:password` before `@`, as written (percent-encoded), if any.
    pub userinfo: Option<String>,
    /// Host name (lower case) or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (the scheme's default when none was written).
    pub port: u16,
    /// Path and query, always starting with `/`; no fragment.
    pub path: String,
}

// Debug without the userinfo, so a password never reaches a log by `{:?}`.
impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({self})")
    }
}

/// Prints the URL without its userinfo (the form used in labels and facts).
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )
    }
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL.
    pub fn parse(text: &str) -> Result<Url, String> {
        let t = text.trim();
        let (scheme, rest) = t
            .split_once("://")
            .ok_or_else(|| "is not a URL; use e.g. https://pypi.org/simple/".to_owned())?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                return Err(format!(
                    "has scheme '{other}'; only http:// and https:// URLs can be measured"
                ));
            }
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((user, hp)) => (Some(user.to_owned()), hp),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        let port = match port {
            Some(p) => p,
            None => scheme.default_port(),
        };
        let tail = tail.split('#').next().unwrap_or("");
        let path = if tail.starts_with('/') {
            encode_path(tail)
        } else {
            format!("/{}", encode_path(tail))
        };
        Ok(Url {
            scheme,
            userinfo: userinfo.filter(|u| !u.is_empty()),
            host,
            port,
            path,
        })
    }

    /// `host`, `host:port` when the port is not the default, IPv6 bracketed.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The host as an IP address when it is a literal (no DNS step then).
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The URL with `reference` appended to its path (`<index>/pip/`),
    /// keeping exactly one `/` between them.
    pub fn join_path(&self, reference: &str) -> Url {
        let (path, _query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let mut url = self.clone();
        url.path = format!(
            "{}/{}",
            path.trim_end_matches('/'),
            reference.trim_start_matches('/')
        );
        url
    }

    /// Resolves a `Location` header against this URL (RFC 3986 §5.2).
    pub fn resolve(&self, location: &str) -> Result<Url, String> {
        let loc = location.trim();
        if loc.is_empty() {
            return Err("empty Location".to_owned());
        }
        let has_scheme = loc
            .find(':')
            .map(|i| {
                let s = &loc[..i];
                !s.is_empty()
                    && s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
            .unwrap_or(false);
        if has_scheme {
            return Url::parse(loc);
        }
        if let Some(rest) = loc.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme.as_str()));
        }
        let loc = loc.split('#').next().unwrap_or("");
        let mut url = self.clone();
        let (base_path, base_query) = match self.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.path.as_str(), None),
        };
        let (ref_path, ref_query) = match loc.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (loc, None),
        };
        let path = if ref_path.is_empty() {
            base_path.to_owned()
        } else if ref_path.starts_with('/') {
            remove_dot_segments(ref_path)
        } else {
            let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
            remove_dot_segments(&format!("{dir}{ref_path}"))
        };
        let query = match (ref_path.is_empty(), ref_query, base_query) {
            (_, Some(q), _) => Some(q),
            (true, None, q) => q,
            (false, None, _) => None,
        };
        let path = encode_path(&path);
        url.path = match query {
            Some(q) => format!("{path}?{}", encode_path(q)),
            None => path,
        };
        Ok(url)
    }
}

/// Splits `host[:port]` / `[v6][:port]`; the host is lower-cased and checked.
fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| "has an unclosed '[' in its host".to_owned())?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("has '[{v6}]', which is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("has '{after}' after its IPv6 host"))?,
            ),
        };
        (v6.to_ascii_lowercase(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (hostport.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if !host.contains(':')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        return Err(format!(
            "has host '{host}' with characters a host name cannot have"
        ));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("has port '{p}'; use 1-65535")),
        },
    };
    Ok((host, port))
}

/// Percent-encodes what may not appear raw in a request target (spaces,
/// controls, non-ASCII); everything else (including `%XX`) is kept.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_graphic() && b != b'#' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

/// Percent-decodes `text` (for the userinfo of Basic authentication).
pub fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Standard base64 with padding (for `Authorization: Basic`).
pub fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_and_https_urls() {
        let u = Url::parse("https://registry.npmjs.org/npm").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
            (Scheme::Https, "registry.npmjs.org", 443, "/npm")
        );
        let u = Url::parse("HTTP://User:S3cret@Example.COM:8080?x=1#frag").unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(u.userinfo.as_deref(), Some("User:S3cret"));
        assert_eq!((u.host.as_str(), u.port), ("example.com", 8080));
        assert_eq!(u.path, "/?x=1");
        assert_eq!(u.to_string(), "http://example.com:8080/?x=1");
        assert!(!format!("{u:?}").contains("S3cret"));
        let u = Url::parse("http://[::1]:9000/a b").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9000));
        assert_eq!(u.path, "/a%20b");
        assert_eq!(u.to_string(), "http://[::1]:9000/a%20b");
        assert_eq!(u.ip(), Some("::1".parse().unwrap()));
        let u = Url::parse("https://h:443/").unwrap();
        assert_eq!(u.to_string(), "https://h/");
        assert_eq!(u.ip(), None);
    }

    #[test]
    fn rejects_what_cannot_be_fetched() {
        for (text, needle) in [
            ("ftp://x", "only http:// and https://"),
            ("pypi.org/simple", "not a URL"),
            ("http:///path", "no host"),
            ("http://h:0/", "port '0'"),
            ("http://h:99999/", "port"),
            ("http://[zz]/", "not an IPv6"),
            ("http://a b/", "characters"),
        ] {
            let e = Url::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn resolves_redirect_locations() {
        let base = Url::parse("http://h:81/a/b/c?q=1").unwrap();
        let r = |loc: &str| base.resolve(loc).unwrap().to_string();
        assert_eq!(r("https://other/x"), "https://other/x");
        assert_eq!(r("//other:9/y"), "http://other:9/y");
        assert_eq!(r("/root"), "http://h:81/root");
        assert_eq!(r("d"), "http://h:81/a/b/d");
        assert_eq!(r("./d/"), "http://h:81/a/b/d/");
        assert_eq!(r("../d?z=2"), "http://h:81/a/d?z=2");
        assert_eq!(r("../../../../d"), "http://h:81/d");
        assert_eq!(r("?z=3"), "http://h:81/a/b/c?z=3");
        assert_eq!(r("#f"), "http://h:81/a/b/c?q=1");
        assert_eq!(r("."), "http://h:81/a/b/");
        assert!(base.resolve("").is_err());
        assert!(base.resolve("ftp://x/").is_err());
        // The userinfo stays for same-origin relative redirects.
        let base = Url::parse("http://u:p@h/a").unwrap();
        assert_eq!(base.resolve("/b").unwrap().userinfo.as_deref(), Some("u:p"));
    }

    #[test]
    fn joins_registry_paths() {
        let index = Url::parse("https://pypi.org/simple").unwrap();
        assert_eq!(index.join_path("pip/").path, "/simple/pip/");
        let index = Url::parse("https://pypi.org/simple/").unwrap();
        assert_eq!(index.join_path("pip/").path, "/simple/pip/");
        let reg = Url::parse("https://registry.npmjs.org/").unwrap();
        assert_eq!(
            reg.join_path("npm").to_string(),
            "https://registry.npmjs.org/npm"
        );
    }

    #[test]
    fn basic_auth_pieces() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(percent_decode("a%40b%3Ac%zz%4"), b"a@b:c%zz%4");
    }
}
