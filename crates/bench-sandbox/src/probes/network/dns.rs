//! A small RFC 1035 stub resolver for `--dns-server`: A and AAAA queries
//! sent together over one UDP socket (as glibc does), the answer's ID and
//! question checked, one retry after half the timeout, CNAME chains
//! followed (inside the answer, then by asking again for the chain's end)
//! and compression pointers understood. No search list and no TCP
//! fallback: the name is asked as written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use bench_core::interrupt::Interrupt;

/// Record type A (IPv4 address).
pub const TYPE_A: u16 = 1;
/// Record type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// Record type AAAA (IPv6 address).
pub const TYPE_AAAA: u16 = 28;
/// Class IN.
const CLASS_IN: u16 = 1;
/// RCODE of a name that does not exist.
pub const RCODE_NXDOMAIN: u8 = 3;
/// Most CNAMEs followed before giving up (a loop, or a silly chain).
const MAX_CNAME_HOPS: usize = 8;
/// Largest UDP answer read (EDNS0 is not used, so 512 is the norm).
const MAX_PACKET: usize = 4096;

/// Why a lookup gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The server answered that the name does not exist.
    NxDomain(String),
    /// No answer within the timeout, after one retry.
    Timeout(String),
    /// Anything else (SERVFAIL, REFUSED, no records, a malformed answer).
    Failed(String),
    /// Ctrl-C.
    Interrupted,
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::NxDomain(m) | DnsError::Timeout(m) | DnsError::Failed(m) => f.write_str(m),
            DnsError::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// One resource record of an answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name, lower case, no trailing dot.
    pub name: String,
    /// What it holds.
    pub data: RData,
}

/// The record data this resolver understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias to another name.
    Cname(String),
    /// Any other type (kept for completeness, ignored).
    Other(u16),
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Response code (0 = no error, 3 = NXDOMAIN, …).
    pub rcode: u8,
    /// The TC bit: the server cut the answer short.
    pub truncated: bool,
    /// The answer section.
    pub answers: Vec<Record>,
}

/// Encodes a recursive query for `name` / `qtype`.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut packet = Vec::with_capacity(18 + name.len());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    packet.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    packet.extend_from_slice(&[0; 6]); // AN, NS, AR counts
    encode_name(&mut packet, name)?;
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(packet)
}

fn encode_name(packet: &mut Vec<u8>, name: &str) -> Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err("empty host name".to_owned());
    }
    if name.len() > 253 {
        return Err(format!("host name '{name}' is longer than 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "host name '{name}' has an empty or over-long (>63) label"
            ));
        }
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    Ok(())
}

fn u16_at(packet: &[u8], at: usize) -> Result<u16, String> {
    packet
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| "truncated DNS packet".to_owned())
}

/// Reads a (possibly compressed) name at `at`; returns it and the offset
/// just after it in the original position.
pub fn read_name(packet: &[u8], at: usize) -> Result<(String, usize), String> {
    let mut labels: Vec<String> = Vec::new();
    let mut pos = at;
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *packet.get(pos).ok_or("truncated DNS name")?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                end.get_or_insert(pos + 1);
                break;
            }
            0x00 => {
                let label = packet
                    .get(pos + 1..pos + 1 + len as usize)
                    .ok_or("truncated DNS label")?;
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + len as usize;
            }
            0xC0 => {
                let target = (u16_at(packet, pos)? & 0x3FFF) as usize;
                end.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > 32 || target >= packet.len() {
                    return Err("DNS compression pointer loop or out of range".to_owned());
                }
                pos = target;
            }
            _ => return Err(format!("unsupported DNS label type 0x{len:02x}")),
        }
    }
    let name = labels.join(".");
    if name.len() > 255 {
        return Err("DNS name longer than 255 bytes".to_owned());
    }
    Ok((name, end.unwrap_or(pos + 1)))
}

/// The ID of a packet (to match it with a query before parsing it).
pub fn packet_id(packet: &[u8]) -> Option<u16> {
    u16_at(packet, 0).ok()
}

/// Parses a response to the query (`id`, `name`, `qtype`), checking that
/// it is a response and that its question is ours.
pub fn parse_response(packet: &[u8], id: u16, name: &str, qtype: u16) -> Result<Message, String> {
    if packet.len() < 12 {
        return Err("DNS answer shorter than its header".to_owned());
    }
    if u16_at(packet, 0)? != id {
        return Err("DNS answer for another query (ID mismatch)".to_owned());
    }
    let flags = u16_at(packet, 2)?;
    if flags & 0x8000 == 0 {
        return Err("DNS packet is a query, not a response".to_owned());
    }
    let qdcount = u16_at(packet, 4)?;
    let ancount = u16_at(packet, 6)?;
    let mut pos = 12;
    let wanted = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    for _ in 0..qdcount {
        let (qname, next) = read_name(packet, pos)?;
        let qt = u16_at(packet, next)?;
        if qname != wanted || qt != qtype {
            return Err(format!(
                "DNS answer is for '{qname}' type {qt}, not '{wanted}' type {qtype}"
            ));
        }
        pos = next + 4;
    }
    let mut answers = Vec::with_capacity(ancount as usize);
    for _ in 0..ancount {
        let (owner, next) = read_name(packet, pos)?;
        let rtype = u16_at(packet, next)?;
        let rdlength = u16_at(packet, next + 8)? as usize;
        let start = next + 10;
        let rdata = packet
            .get(start..start + rdlength)
            .ok_or("truncated DNS record")?;
        let data = match (rtype, rdlength) {
            (TYPE_A, 4) => RData::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])),
            (TYPE_AAAA, 16) => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(rdata);
                RData::Aaaa(Ipv6Addr::from(octets))
            }
            (TYPE_A | TYPE_AAAA, n) => {
                return Err(format!("DNS address record of {n} bytes"));
            }
            (TYPE_CNAME, _) => RData::Cname(read_name(packet, start)?.0),
            (other, _) => RData::Other(other),
        };
        answers.push(Record { name: owner, data });
        pos = start + rdlength;
    }
    Ok(Message {
        rcode: (flags & 0x000F) as u8,
        truncated: flags & 0x0200 != 0,
        answers,
    })
}

/// Follows the CNAME chain from `name` through `answers`; returns the
/// addresses of its end and that end's name.
pub fn chase(answers: &[Record], name: &str) -> (Vec<IpAddr>, String) {
    let mut current = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    for _ in 0..MAX_CNAME_HOPS {
        let next = answers.iter().find_map(|r| match &r.data {
            RData::Cname(target) if r.name == current => Some(target.clone()),
            _ => None,
        });
        match next {
            Some(target) => current = target,
            None => break,
        }
    }
    let addrs = answers
        .iter()
        .filter(|r| r.name == current)
        .filter_map(|r| match r.data {
            RData::A(ip) => Some(IpAddr::V4(ip)),
            RData::Aaaa(ip) => Some(IpAddr::V6(ip)),
            _ => None,
        })
        .collect();
    (addrs, current)
}

/// The full lookup of `name` at `server`: A then AAAA addresses.
pub fn lookup(
    server: SocketAddr,
    name: &str,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<Vec<IpAddr>, DnsError> {
    let mut current = name.to_owned();
    for _ in 0..MAX_CNAME_HOPS {
        match lookup_once(server, &current, timeout, interrupt)? {
            Found::Addresses(addrs) => return Ok(addrs),
            Found::Alias(target) => current = target,
        }
    }
    Err(DnsError::Failed(format!(
        "{name}: CNAME chain longer than {MAX_CNAME_HOPS} or a loop"
    )))
}

enum Found {
    Addresses(Vec<IpAddr>),
    /// The chain ends at a name the answer had no address for.
    Alias(String),
}

struct Pending {
    id: u16,
    qtype: u16,
    packet: Vec<u8>,
    answer: Option<Result<Message, String>>,
}

fn lookup_once(
    server: SocketAddr,
    name: &str,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<Found, DnsError> {
    let failed = |what: &str, e: std::io::Error| DnsError::Failed(format!("{what}: {e}"));
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).map_err(|e| failed("DNS socket", e))?;
    socket
        .connect(server)
        .map_err(|e| failed(&format!("DNS server {server}"), e))?;
    let id_a = bench_core::time::random_u16();
    let mut queries = Vec::new();
    for (i, qtype) in [TYPE_A, TYPE_AAAA].into_iter().enumerate() {
        let id = id_a.wrapping_add(i as u16);
        let packet = encode_query(id, name, qtype).map_err(DnsError::Failed)?;
        queries.push(Pending {
            id,
            qtype,
            packet,
            answer: None,
        });
    }
    // Two attempts of half the timeout each (glibc: 5 s, 2 attempts).
    let attempt = (timeout / 2).max(Duration::from_millis(50));
    let mut buf = vec![0u8; MAX_PACKET];
    'attempts: for round in 0..2 {
        for q in queries.iter().filter(|q| q.answer.is_none()) {
            socket
                .send(&q.packet)
                .map_err(|e| failed(&format!("DNS query to {server}"), e))?;
        }
        let deadline = Instant::now() + attempt;
        while queries.iter().any(|q| q.answer.is_none()) {
            if interrupt.is_set() {
                return Err(DnsError::Interrupted);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                if round == 1 {
                    return Err(DnsError::Timeout(format!(
                        "{name}: no answer from DNS server {server} within {:.1} s (2 tries)",
                        timeout.as_secs_f64()
                    )));
                }
                continue 'attempts;
            }
            socket
                .set_read_timeout(Some(left.min(Duration::from_millis(100))))
                .map_err(|e| failed("DNS socket", e))?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(failed(&format!("DNS server {server}"), e)),
            };
            let packet = &buf[..n];
            let Some(id) = packet_id(packet) else {
                continue;
            };
            // A stray or late packet (an answer to the first try) is skipped.
            if let Some(q) = queries
                .iter_mut()
                .find(|q| q.id == id && q.answer.is_none())
            {
                q.answer = Some(parse_response(packet, id, name, q.qtype));
            }
        }
        break;
    }
    let mut addrs = Vec::new();
    let mut alias = None;
    let mut problems = Vec::new();
    let mut nxdomain = false;
    for q in &queries {
        let kind = if q.qtype == TYPE_A { "A" } else { "AAAA" };
        match &q.answer {
            Some(Ok(msg)) if msg.rcode == 0 => {
                let (found, end) = chase(&msg.answers, name);
                if found.is_empty() && end != name.to_ascii_lowercase() {
                    alias = Some(end);
                }
                addrs.extend(found);
                if msg.truncated && addrs.is_empty() {
                    problems.push(format!("{kind}: truncated answer (TC)"));
                }
            }
            Some(Ok(msg)) if msg.rcode == RCODE_NXDOMAIN => nxdomain = true,
            Some(Ok(msg)) => problems.push(format!("{kind}: {}", rcode_name(msg.rcode))),
            Some(Err(e)) => problems.push(format!("{kind}: {e}")),
            None => problems.push(format!("{kind}: no answer")),
        }
    }
    if !addrs.is_empty() {
        return Ok(Found::Addresses(addrs));
    }
    if let Some(target) = alias {
        return Ok(Found::Alias(target));
    }
    if nxdomain {
        return Err(DnsError::NxDomain(format!(
            "{name}: NXDOMAIN from DNS server {server} (no such name)"
        )));
    }
    if problems.is_empty() {
        problems.push("no A or AAAA records".to_owned());
    }
    Err(DnsError::Failed(format!(
        "{name}: DNS server {server}: {}",
        problems.join("; ")
    )))
}

fn rcode_name(rcode: u8) -> String {
    match rcode {
        1 => "FORMERR".to_owned(),
        2 => "SERVFAIL".to_owned(),
        3 => "NXDOMAIN".to_owned(),
        4 => "NOTIMP".to_owned(),
        5 => "REFUSED".to_owned(),
        n => format!("RCODE {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `query` with the answer records already encoded.
    fn response(query: &[u8], rcode: u8, answers: &[u8], ancount: u16) -> Vec<u8> {
        let mut p = query.to_vec();
        p[2] = 0x81; // QR, RD
        p[3] = 0x80 | rcode; // RA
        p[6..8].copy_from_slice(&ancount.to_be_bytes());
        p.extend_from_slice(answers);
        p
    }

    fn rr(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut r = owner.to_vec();
        r.extend_from_slice(&rtype.to_be_bytes());
        r.extend_from_slice(&CLASS_IN.to_be_bytes());
        r.extend_from_slice(&300u32.to_be_bytes());
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(rdata);
        r
    }

    #[test]
    fn encodes_a_query() {
        let q = encode_query(0xBEEF, "Pypi.org.", TYPE_AAAA).unwrap();
        assert_eq!(
            q,
            [
                0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, b'P', b'y', b'p', b'i', 3, b'o',
                b'r', b'g', 0, 0, 28, 0, 1
            ]
        );
        assert!(encode_query(1, "", TYPE_A).is_err());
        assert!(encode_query(1, "a..b", TYPE_A).is_err());
        assert!(encode_query(1, &"x".repeat(64), TYPE_A).is_err());
        assert!(encode_query(1, &["abc"; 70].join("."), TYPE_A).is_err());
    }

    #[test]
    fn parses_a_cname_chain_with_compression() {
        let q = encode_query(7, "www.example.com", TYPE_A).unwrap();
        // www.example.com (at 12) CNAME cdn.example.com, written as
        // "cdn" + pointer to "example.com" (at 16); then the A record's
        // owner is a pointer to that CNAME target.
        let mut answers = rr(&[0xC0, 12], TYPE_CNAME, &[3, b'c', b'd', b'n', 0xC0, 16]);
        let target_at = (q.len() + answers.len() - 6) as u8;
        answers.extend(rr(&[0xC0, target_at], TYPE_A, &[10, 0, 0, 7]));
        answers.extend(rr(&[0xC0, target_at], 16, b"\x03txt"));
        let packet = response(&q, 0, &answers, 3);
        let msg = parse_response(&packet, 7, "www.example.com", TYPE_A).unwrap();
        assert_eq!(msg.rcode, 0);
        assert_eq!(
            msg.answers[0],
            Record {
                name: "www.example.com".into(),
                data: RData::Cname("cdn.example.com".into())
            }
        );
        assert_eq!(msg.answers[2].data, RData::Other(16));
        let (addrs, end) = chase(&msg.answers, "WWW.example.com.");
        assert_eq!(addrs, [IpAddr::from([10, 0, 0, 7])]);
        assert_eq!(end, "cdn.example.com");
        // A chain whose end has no address here names that end.
        let (addrs, end) = chase(&msg.answers[..1], "www.example.com");
        assert!(addrs.is_empty());
        assert_eq!(end, "cdn.example.com");
    }

    #[test]
    fn parses_aaaa_and_nxdomain() {
        let q = encode_query(9, "h.test", TYPE_AAAA).unwrap();
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let packet = response(&q, 0, &rr(&[0xC0, 12], TYPE_AAAA, &v6.octets()), 1);
        let msg = parse_response(&packet, 9, "h.test", TYPE_AAAA).unwrap();
        assert_eq!(chase(&msg.answers, "h.test").0, [IpAddr::V6(v6)]);
        let packet = response(&q, RCODE_NXDOMAIN, &[], 0);
        let msg = parse_response(&packet, 9, "h.test", TYPE_AAAA).unwrap();
        assert_eq!((msg.rcode, msg.answers.len()), (RCODE_NXDOMAIN, 0));
    }

    #[test]
    fn rejects_foreign_or_broken_answers() {
        let q = encode_query(9, "h.test", TYPE_A).unwrap();
        let ok = response(&q, 0, &rr(&[0xC0, 12], TYPE_A, &[1, 2, 3, 4]), 1);
        assert!(
            parse_response(&ok, 8, "h.test", TYPE_A)
                .unwrap_err()
                .contains("ID")
        );
        assert!(
            parse_response(&ok, 9, "other.test", TYPE_A)
                .unwrap_err()
                .contains("not 'other.test'")
        );
        assert!(
            parse_response(&q, 9, "h.test", TYPE_A)
                .unwrap_err()
                .contains("not a response")
        );
        assert!(parse_response(&ok[..ok.len() - 2], 9, "h.test", TYPE_A).is_err());
        assert!(parse_response(&ok[..5], 9, "h.test", TYPE_A).is_err());
        // A pointer to itself.
        let looped = response(&q, 0, &rr(&[0xC0, q.len() as u8], TYPE_A, &[1, 2, 3, 4]), 1);
        assert!(
            parse_response(&looped, 9, "h.test", TYPE_A)
                .unwrap_err()
                .contains("loop")
        );
        let short_a = response(&q, 0, &rr(&[0xC0, 12], TYPE_A, &[1, 2, 3]), 1);
        assert!(parse_response(&short_a, 9, "h.test", TYPE_A).is_err());
    }

    #[test]
    fn a_silent_server_times_out_after_a_retry() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = silent.local_addr().unwrap();
        let started = Instant::now();
        let e = lookup(
            server,
            "h.test",
            Duration::from_millis(200),
            &Interrupt::new(),
        )
        .unwrap_err();
        assert!(matches!(e, DnsError::Timeout(_)), "{e:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // Both tries arrived, A and AAAA each time.
        silent
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 512];
        let mut seen = 0;
        while silent.recv(&mut buf).is_ok() {
            seen += 1;
        }
        assert_eq!(seen, 4);
    }
}
