//! A loopback UDP DNS server for tests: a zone of A, AAAA and CNAME records
//! (names case-insensitive), NXDOMAIN for names it does not know, NODATA
//! for a known name without the asked type. Answers use compression
//! pointers (owner names point at the question or at a CNAME target), so a
//! client's pointer handling is exercised. Every query is recorded; the
//! next N queries can be dropped to exercise retries.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One record of the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Alias to another name.
    Cname(String),
}

/// A query as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The name asked, lower case.
    pub name: String,
    /// The type asked (1 = A, 28 = AAAA).
    pub qtype: u16,
    /// False when it was dropped unanswered.
    pub answered: bool,
}

type Zone = Arc<Mutex<HashMap<String, Vec<Record>>>>;

/// The running server; stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Zone,
    log: Arc<Mutex<Vec<Query>>>,
    drop_next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts an empty zone on 127.0.0.1 (a random port).
    pub fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0/udp");
        let addr = socket.local_addr().expect("local_addr");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set_read_timeout");
        let zone: Zone = Arc::new(Mutex::new(HashMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let drop_next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (zone, log, drop_next, stop) =
                (zone.clone(), log.clone(), drop_next.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    let Some((name, qtype, question_end)) = parse_query(&buf[..n]) else {
                        continue;
                    };
                    let drop = drop_next
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
                        .is_ok();
                    log.lock().expect("log lock").push(Query {
                        name: name.clone(),
                        qtype,
                        answered: !drop,
                    });
                    if drop {
                        continue;
                    }
                    let zone = zone.lock().expect("zone lock").clone();
                    let reply = answer(&buf[..question_end], &name, qtype, &zone);
                    let _ = socket.send_to(&reply, peer);
                }
            })
        };
        DnsServer {
            addr,
            zone,
            log,
            drop_next,
            stop,
            thread: Some(thread),
        }
    }

    /// The server's address (for `--dns-server`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a record for `name`.
    pub fn add(&self, name: &str, record: Record) -> &Self {
        self.zone
            .lock()
            .expect("zone lock")
            .entry(name.trim_end_matches('.').to_ascii_lowercase())
            .or_default()
            .push(record);
        self
    }

    /// Drops the next `n` queries unanswered.
    pub fn drop_next(&self, n: usize) {
        self.drop_next.store(n, Ordering::SeqCst);
    }

    /// Every query so far.
    pub fn queries(&self) -> Vec<Query> {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The question of a query: name, type and where the question ends.
fn parse_query(packet: &[u8]) -> Option<(String, u16, usize)> {
    if packet.len() < 12 || packet[2] & 0x80 != 0 || packet[4..6] != [0, 1] {
        return None;
    }
    let mut labels = Vec::new();
    let mut pos = 12;
    loop {
        let len = *packet.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(packet.get(pos..pos + len)?).to_ascii_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*packet.get(pos)?, *packet.get(pos + 1)?]);
    Some((labels.join("."), qtype, pos + 4))
}

fn record(reply: &mut Vec<u8>, owner_at: u16, rtype: u16, rdata: &[u8]) {
    reply.extend_from_slice(&(0xC000 | owner_at).to_be_bytes());
    reply.extend_from_slice(&rtype.to_be_bytes());
    reply.extend_from_slice(&1u16.to_be_bytes());
    reply.extend_from_slice(&60u32.to_be_bytes());
    reply.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    reply.extend_from_slice(rdata);
}

/// The reply to `question` (header + question of the query).
fn answer(question: &[u8], name: &str, qtype: u16, zone: &HashMap<String, Vec<Record>>) -> Vec<u8> {
    let mut reply = question.to_vec();
    reply[2] = 0x80 | (question[2] & 0x01); // QR, RD copied
    reply[3] = 0x80; // RA, NOERROR
    reply[6..12].fill(0);
    if !zone.contains_key(name) {
        reply[3] |= 3; // NXDOMAIN
        return reply;
    }
    let mut count: u16 = 0;
    let mut current = name.to_owned();
    let mut owner_at: u16 = 12; // the question's name
    for _ in 0..8 {
        let records = zone.get(&current).cloned().unwrap_or_default();
        let alias = records.iter().find_map(|r| match r {
            Record::Cname(target) => Some(target.trim_end_matches('.').to_ascii_lowercase()),
            _ => None,
        });
        if let Some(target) = alias {
            // The target written in full; later owners point at it.
            let mut rdata = Vec::new();
            for label in target.split('.') {
                rdata.push(label.len() as u8);
                rdata.extend_from_slice(label.as_bytes());
            }
            rdata.push(0);
            record(&mut reply, owner_at, 5, &rdata);
            owner_at = (reply.len() - rdata.len()) as u16;
            count += 1;
            current = target;
            continue;
        }
        for r in &records {
            match (r, qtype) {
                (Record::A(ip), 1) => {
                    record(&mut reply, owner_at, 1, &ip.octets());
                    count += 1;
                }
                (Record::Aaaa(ip), 28) => {
                    record(&mut reply, owner_at, 28, &ip.octets());
                    count += 1;
                }
                _ => {}
            }
        }
        break;
    }
    reply[6..8].copy_from_slice(&count.to_be_bytes());
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![(id >> 8) as u8, id as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
        q
    }

    #[test]
    fn answers_known_names_and_nxdomain_for_others() {
        let server = DnsServer::start();
        server
            .add("Reg.Bench.Test", Record::A(Ipv4Addr::LOCALHOST))
            .add("alias.bench.test", Record::Cname("reg.bench.test".into()));
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 512];
        client
            .send_to(&query(7, "reg.bench.test", 1), server.addr())
            .unwrap();
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..2], &[0, 7]);
        assert_eq!(buf[3] & 0x0F, 0);
        assert_eq!(&buf[6..8], &[0, 1]);
        assert_eq!(&buf[n - 4..n], &[127, 0, 0, 1]);
        client
            .send_to(&query(8, "alias.bench.test", 1), server.addr())
            .unwrap();
        client.recv(&mut buf).unwrap();
        assert_eq!(&buf[6..8], &[0, 2]); // CNAME + A
        client
            .send_to(&query(9, "nope.bench.test", 1), server.addr())
            .unwrap();
        client.recv(&mut buf).unwrap();
        assert_eq!(buf[3] & 0x0F, 3);
        assert_eq!(server.queries().len(), 3);
    }
}
