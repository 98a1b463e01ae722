//! https hops through the sandbox's own `curl` (`--https-client curl`, the
//! default of a build without the `tls` feature, such as the pasteable
//! static binary, which leaves rustls out to stay small).
//!
//! One curl process per hop, like the built-in client's one connection per
//! hop: redirects are followed by [`super::http::get`] (so both clients
//! share the redirect rules and every host is resolved by our resolver),
//! and curl is told where to connect with `--resolve`. curl is spawned with
//! stdin null (or the credentials, see below), stdout and stderr piped,
//! its own process group, `.curlrc` ignored (`-q`), HTTP/1.1, identity
//! encoding and the same `Accept` and `User-Agent` as the built-in client.
//! The body comes through our stdout pipe and is counted here; at
//! `--max-bytes` the pipe is closed (curl stops with exit 23) and the
//! download is marked truncated. `--net-timeout` is curl's
//! `--connect-timeout` and, as `--speed-time` below 1 byte/s, its limit of
//! silence; an overall deadline and Ctrl-C kill it.
//!
//! Timings come from curl's `--write-out` (written to stderr after a
//! marker), with the built-in client's definitions: TTFB =
//! `time_starttransfer - time_pretransfer` (request about to be sent → first
//! response byte) and transfer = `time_total - time_pretransfer` (→ last
//! byte), so bandwidth = body bytes / transfer.
//!
//! Credentials of a URL (`https://user:pass@host/`) go to curl as a config
//! file on stdin (`-K -`), never in its argv (which `ps` shows).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bench_core::interrupt::Interrupt;
use bench_core::probe::Context;
use bench_core::schema::ErrorKind;

use super::http::{Hop, NetError, Options, is_redirect};
use super::url::{Url, percent_decode};
use crate::probes::child;

/// The first word of the `--write-out` line.
pub const MARKER: &str = "E2B_BENCH_CURL";
/// Oldest curl with `%{stderr}` in `--write-out`.
pub const MIN_VERSION: (u32, u32, u32) = (7, 63, 0);
/// What a missing curl means.
pub const MISSING: &str = "https needs curl in the sandbox when bench-sandbox is built without TLS (the paste build); install curl or use http:// targets";
/// How often the process is checked for exit, deadline and Ctrl-C.
const POLL: Duration = Duration::from_millis(20);
/// Time limit of `curl --version`.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);
/// The overall limit of one hop is the larger of this and 10 × --net-timeout.
const MIN_OVERALL: Duration = Duration::from_secs(300);

/// The `--write-out` argument: the marker line on stderr.
fn write_out() -> String {
    format!(
        "%{{stderr}}{MARKER} %{{http_code}} %{{time_pretransfer}} %{{time_starttransfer}} %{{time_total}} %{{remote_ip}} %{{remote_port}} %{{redirect_url}}\\n"
    )
}

/// The curl found and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Its path.
    pub path: PathBuf,
    /// Its version (`8.5.0`).
    pub version: String,
}

/// curl, looked for and checked (`curl --version`) on first use, shared by
/// every target of the run.
#[derive(Debug, Clone)]
pub struct LazyCurl {
    program: String,
    ca_file: Option<PathBuf>,
    cell: Arc<OnceLock<Result<Info, NetError>>>,
}

impl LazyCurl {
    /// `program` (`--curl`; default `curl` on PATH), trusting `ca_file`
    /// (`--cacert`) when given, else curl's own default bundle.
    pub fn new(program: Option<String>, ca_file: Option<PathBuf>) -> Self {
        LazyCurl {
            program: program.unwrap_or_else(|| "curl".to_owned()),
            ca_file,
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// The checked curl, or why there is none (`unavailable`).
    pub fn get(&self, interrupt: &Interrupt) -> Result<&Info, NetError> {
        self.cell
            .get_or_init(|| find(&self.program, interrupt))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// What looking for curl gave, if anything asked for it.
    pub fn loaded(&self) -> Option<Result<&Info, &NetError>> {
        self.cell.get().map(Result::as_ref)
    }
}

fn unavailable(message: String) -> NetError {
    NetError {
        kind: ErrorKind::Unavailable,
        message,
    }
}

/// Finds `program` and checks its version and https support.
fn find(program: &str, interrupt: &Interrupt) -> Result<Info, NetError> {
    let Some(path) = child::which(program) else {
        return Err(unavailable(if program == "curl" {
            format!("{MISSING} (no curl on PATH)")
        } else {
            format!("{MISSING} ({program} is not an executable file)")
        }));
    };
    let ctx = Context::new(interrupt.clone());
    let done = match child::run(Command::new(&path).arg("--version"), VERSION_TIMEOUT, &ctx) {
        Ok(done) => done,
        Err(child::ChildError::Interrupted) => return Err(NetError::interrupted()),
        Err(child::ChildError::Timeout(_)) => {
            return Err(unavailable(format!(
                "{}: 'curl --version' gave no answer within {} s",
                path.display(),
                VERSION_TIMEOUT.as_secs()
            )));
        }
        Err(child::ChildError::Spawn(e)) => {
            return Err(unavailable(format!("{}: cannot run: {e}", path.display())));
        }
    };
    let text = String::from_utf8_lossy(&done.stdout);
    let Some((version, numbers)) = parse_version(&text) else {
        return Err(unavailable(format!(
            "{}: not curl ('--version' printed '{}')",
            path.display(),
            child::tail(&done.stdout, 1)
        )));
    };
    if numbers < MIN_VERSION {
        return Err(unavailable(format!(
            "{}: curl {version} is older than 7.63 (no %{{stderr}} in --write-out); install a newer curl or use http:// targets",
            path.display()
        )));
    }
    if !supports_https(&text) {
        return Err(unavailable(format!(
            "{}: curl {version} was built without https; install a curl with TLS or use http:// targets",
            path.display()
        )));
    }
    Ok(Info { path, version })
}

/// The version of `curl --version`'s first line (`curl 8.5.0 (x86_64…`),
/// as written and as numbers.
pub fn parse_version(text: &str) -> Option<(String, (u32, u32, u32))> {
    let first = text.lines().next()?;
    let mut words = first.split_whitespace();
    if words.next()? != "curl" {
        return None;
    }
    let version = words.next()?;
    let mut parts = version.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((version.to_owned(), (major, minor, patch)))
}

/// Whether the `Protocols:` line of `curl --version` lists https.
pub fn supports_https(text: &str) -> bool {
    text.lines()
        .find_map(|l| l.strip_prefix("Protocols:"))
        .is_some_and(|p| p.split_whitespace().any(|w| w == "https"))
}

/// What the `--write-out` line says about a hop.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOut {
    /// `http_code` (0: no response).
    pub status: u16,
    /// `time_pretransfer`, seconds.
    pub pretransfer: f64,
    /// `time_starttransfer`, seconds.
    pub starttransfer: f64,
    /// `time_total`, seconds.
    pub total: f64,
    /// `remote_ip`:`remote_port`, when curl connected.
    pub remote: Option<SocketAddr>,
    /// `redirect_url` (absolute), when the response had a Location.
    pub redirect_url: Option<String>,
}

impl WriteOut {
    /// Request about to be sent → first response byte.
    pub fn ttfb(&self) -> Duration {
        secs(self.starttransfer - self.pretransfer)
    }

    /// Request about to be sent → last byte.
    pub fn transfer(&self) -> Duration {
        secs(self.total - self.pretransfer)
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or_default()
}

/// The last marker line of curl's stderr, parsed.
pub fn parse_write_out(stderr: &str) -> Option<WriteOut> {
    let line = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(MARKER)?.strip_prefix(' '))?;
    let fields: Vec<&str> = line.splitn(7, ' ').collect();
    let [code, pre, start, total, ip, port, redirect] = fields[..] else {
        return None;
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let remote = match (ip.parse(), port.parse()) {
        (Ok(ip), Ok(port)) if port != 0 => Some(SocketAddr::new(ip, port)),
        _ => None,
    };
    let redirect = redirect.trim();
    Some(WriteOut {
        status: code.parse().ok()?,
        pretransfer: pre.parse().ok()?,
        starttransfer: start.parse().ok()?,
        total: total.parse().ok()?,
        remote,
        redirect_url: (!redirect.is_empty()).then(|| redirect.to_owned()),
    })
}

/// curl's error line (`curl: (60) SSL certificate problem: …`, which some
/// versions follow with lines of advice), else its last line of stderr
/// other than the marker.
fn last_message(stderr: &str) -> String {
    let lines = || {
        stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with(MARKER))
    };
    lines()
        .rfind(|l| l.starts_with("curl: ("))
        .or_else(|| lines().next_back())
        .unwrap_or("")
        .to_owned()
}

/// The argv (after the program) of the GET of `url` connecting to `addrs`.
pub fn arguments(
    url: &Url,
    addrs: &[SocketAddr],
    opts: &Options,
    ca_file: Option<&std::path::Path>,
    credentials: bool,
) -> Vec<String> {
    let timeout = opts.timeout.as_secs_f64();
    let mut args: Vec<String> = [
        "-q", // no .curlrc; must come first
        "--silent",
        "--show-error",
        "--globoff",
        "--path-as-is",
        "--http1.1",
        "--output",
        "-",
        "--speed-limit",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push("--speed-time".into());
    args.push(format!("{}", timeout.ceil().max(1.0) as u64));
    args.push("--connect-timeout".into());
    args.push(format!("{:.3}", timeout.max(0.001)));
    for header in [
        format!("Accept: {}", opts.accept),
        "Accept-Encoding: identity".to_owned(),
    ] {
        args.push("--header".into());
        args.push(header);
    }
    args.push("--user-agent".into());
    args.push(opts.user_agent.clone());
    if url.ip().is_none() && !addrs.is_empty() {
        let list: Vec<String> = addrs
            .iter()
            .map(|a| match a {
                SocketAddr::V4(v4) => v4.ip().to_string(),
                SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
            })
            .collect();
        args.push("--resolve".into());
        args.push(format!("{}:{}:{}", url.host, url.port, list.join(",")));
    }
    if let Some(ca) = ca_file {
        args.push("--cacert".into());
        args.push(ca.display().to_string());
    }
    if credentials {
        args.push("--config".into());
        args.push("-".into());
    }
    args.push("--write-out".into());
    args.push(write_out());
    args.push("--".into());
    // Display leaves the userinfo out.
    args.push(url.to_string());
    args
}

/// A curl config line giving the (percent-encoded) `userinfo`.
pub fn user_config(userinfo: &str) -> String {
    let plain = String::from_utf8_lossy(&percent_decode(userinfo)).into_owned();
    let mut quoted = String::with_capacity(plain.len() + 2);
    for c in plain.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c => quoted.push(c),
        }
    }
    format!("user = \"{quoted}\"\n")
}

/// Reads the body from curl's stdout, counting up to `max` bytes; then one
/// more byte decides whether it was cut short, and the pipe is closed.
fn count_body(mut pipe: impl Read, max: u64) -> io::Result<(u64, bool)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        if total >= max {
            return loop {
                match pipe.read(&mut [0u8; 1]) {
                    Ok(more) => break Ok((total, more > 0)),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
        }
        let want = (max - total).min(buf.len() as u64) as usize;
        match pipe.read(&mut buf[..want]) {
            Ok(0) => return Ok((total, false)),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn join<T: Default>(handle: Option<JoinHandle<T>>) -> T {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// Kills and reaps `child`.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Fetches one https hop of `url` with curl, connecting to `addrs`.
pub(super) fn fetch(
    url: &Url,
    addrs: &[SocketAddr],
    opts: &Options,
    curl: &LazyCurl,
) -> Result<Hop, NetError> {
    let info = curl.get(&opts.interrupt).map_err(|e| match e.kind {
        ErrorKind::Unavailable => unavailable(format!("{url}: {}", e.message)),
        _ => e,
    })?;
    let credentials = url.userinfo.as_deref().map(user_config);
    let mut cmd = Command::new(&info.path);
    cmd.args(arguments(
        url,
        addrs,
        opts,
        curl.ca_file.as_deref(),
        credentials.is_some(),
    ))
    .stdin(if credentials.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    if opts.interrupt.is_set() {
        return Err(NetError::interrupted());
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| NetError::failed(format!("{url}: cannot run {}: {e}", info.path.display())))?;
    if let (Some(config), Some(mut stdin)) = (credentials, child.stdin.take()) {
        // One short line: fits the pipe buffer, so this cannot block.
        let _ = stdin.write_all(config.as_bytes());
    }
    let max = opts.max_bytes;
    let body = child
        .stdout
        .take()
        .map(|pipe| std::thread::spawn(move || count_body(pipe, max)));
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    });
    let overall = MIN_OVERALL.max(opts.timeout.saturating_mul(10));
    let deadline = Instant::now() + overall;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                stop(&mut child);
                return Err(NetError::failed(format!("{url}: waiting for curl: {e}")));
            }
        }
        if opts.interrupt.is_set() {
            stop(&mut child);
            return Err(NetError::interrupted());
        }
        if Instant::now() >= deadline {
            stop(&mut child);
            return Err(NetError {
                kind: ErrorKind::Timeout,
                message: format!(
                    "{url}: curl did not finish within {} s; killed",
                    overall.as_secs()
                ),
            });
        }
        std::thread::sleep(POLL);
    };
    let counted = body.map(|h| {
        h.join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")))
    });
    let stderr = String::from_utf8_lossy(&join(stderr)).into_owned();
    let (bytes, truncated) = match counted {
        Some(Ok(counted)) => counted,
        Some(Err(e)) => return Err(NetError::io(&format!("{url}: reading curl's output"), &e)),
        None => (0, false),
    };
    let code = status.code();
    // 23: curl could not write because we closed the pipe at --max-bytes.
    if !(code == Some(0) || (code == Some(23) && truncated)) {
        let message = last_message(&stderr);
        let (kind, hint) = match code {
            Some(28) => (ErrorKind::Timeout, " (--net-timeout)"),
            _ => (ErrorKind::Failed, ""),
        };
        let what = match code {
            Some(c) if message.is_empty() => format!("curl exited with status {c}"),
            Some(_) => message,
            None => format!("curl was killed ({status})"),
        };
        return Err(NetError {
            kind,
            message: format!("{url}: {what}{hint}"),
        });
    }
    let out = parse_write_out(&stderr).ok_or_else(|| {
        NetError::failed(format!(
            "{url}: curl printed no --write-out line (stderr: '{}')",
            child::tail(stderr.as_bytes(), 1)
        ))
    })?;
    let location = out.redirect_url.clone().filter(|_| is_redirect(out.status));
    let redirected = location.is_some() || !(200..300).contains(&out.status);
    Ok(Hop {
        status: out.status,
        reason: String::new(),
        location,
        bytes: if redirected { 0 } else { bytes },
        truncated: truncated && !redirected,
        ttfb: out.ttfb(),
        transfer: out.transfer(),
        address: out
            .remote
            .or_else(|| addrs.first().copied())
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], url.port))),
        tls: None,
        curl: Some(info.version.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_write_out_line() {
        let stderr = "curl: (23) Failure writing output to destination\n\
                      E2B_BENCH_CURL 200 0.000248 0.008935 0.009717 127.0.0.1 18777 \n";
        let w = parse_write_out(stderr).expect("a marker line");
        assert_eq!(w.status, 200);
        assert_eq!(w.remote, Some("127.0.0.1:18777".parse().unwrap()));
        assert_eq!(w.redirect_url, None);
        assert_eq!(w.ttfb(), Duration::from_micros(8687));
        assert_eq!(w.transfer(), Duration::from_micros(9469));
        let w =
            parse_write_out("E2B_BENCH_CURL 301 0.1 0.2 0.3 ::1 8443 https://h:8443/next?a=b\n")
                .expect("IPv6 and a redirect");
        assert_eq!(w.remote, Some("[::1]:8443".parse().unwrap()));
        assert_eq!(w.redirect_url.as_deref(), Some("https://h:8443/next?a=b"));
        // No connection: code 000, no address.
        let w = parse_write_out("curl: (7) Failed to connect\nE2B_BENCH_CURL 000 0 0 0.001  0 \n")
            .expect("a failed transfer");
        assert_eq!((w.status, w.remote), (0, None));
        // A negative difference (rounding) is zero, not a panic.
        let w = parse_write_out("E2B_BENCH_CURL 200 0.5 0.4 0.3 1.2.3.4 443 \n").unwrap();
        assert_eq!(w.ttfb(), Duration::ZERO);
        for bad in [
            "",
            "curl: (6) no\n",
            "E2B_BENCH_CURL 200 x 0 0 1.2.3.4 1 \n",
            "E2B_BENCH_CURL 200 0 0\n",
            "E2B_BENCH_CURLX 200 0 0 0 1.2.3.4 1 \n",
        ] {
            assert_eq!(parse_write_out(bad), None, "{bad:?}");
        }
        assert_eq!(
            last_message(
                "curl: (60) SSL certificate problem: self-signed certificate\nE2B_BENCH_CURL 000 0 0 0  0 \n"
            ),
            "curl: (60) SSL certificate problem: self-signed certificate"
        );
        // curl 7.x adds advice after the error line.
        assert_eq!(
            last_message(
                "curl: (60) SSL certificate problem: x\nMore details here: https://curl.se/docs/sslcerts.html\n\nhow to fix it, please visit the web page mentioned above.\nE2B_BENCH_CURL 000 0 0 0  0 \n"
            ),
            "curl: (60) SSL certificate problem: x"
        );
        assert_eq!(last_message("odd\nE2B_BENCH_CURL 000 0 0 0  0 \n"), "odd");
    }

    #[test]
    fn parses_the_version_and_protocols() {
        let text = "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19\n\
                    Release-Date: 2023-02-20\n\
                    Protocols: dict file ftp http https imap\n\
                    Features: alt-svc AsynchDNS\n";
        assert_eq!(parse_version(text), Some(("7.88.1".to_owned(), (7, 88, 1))));
        assert!(supports_https(text));
        assert!(!supports_https("curl 7.1\nProtocols: http ftp\n"));
        assert_eq!(
            parse_version("curl 8.10.0-DEV (x)\n").unwrap().1,
            (8, 10, 0)
        );
        assert!(parse_version("curl 7.62.0 (x)\n").unwrap().1 < MIN_VERSION);
        assert!(parse_version("wget 1.21\n").is_none());
        assert!(parse_version("").is_none());
    }

    #[test]
    fn the_arguments_keep_our_resolver_and_hide_credentials() {
        let opts = Options {
            timeout: Duration::from_millis(500),
            max_bytes: 10,
            accept: "*/*".into(),
            user_agent: "bench-sandbox/0".into(),
            interrupt: Interrupt::new(),
            https: super::super::http::Https::Curl(LazyCurl::new(None, None)),
        };
        let url = Url::parse("https://user:s3cret@reg.test:8443/a b").unwrap();
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:8443".parse().unwrap(),
            "[::1]:8443".parse().unwrap(),
        ];
        let args = arguments(
            &url,
            &addrs,
            &opts,
            Some(std::path::Path::new("/ca.pem")),
            true,
        );
        assert_eq!(args[0], "-q");
        let after = |flag: &str| {
            let i = args.iter().position(|a| a == flag).expect(flag);
            args[i + 1].as_str()
        };
        assert_eq!(after("--resolve"), "reg.test:8443:127.0.0.1,[::1]");
        assert_eq!(after("--cacert"), "/ca.pem");
        assert_eq!(after("--connect-timeout"), "0.500");
        assert_eq!(after("--speed-time"), "1");
        assert_eq!(after("--config"), "-");
        assert!(after("--write-out").starts_with("%{stderr}E2B_BENCH_CURL %{http_code}"));
        assert_eq!(args.last().unwrap(), "https://reg.test:8443/a%20b");
        assert!(!args.iter().any(|a| a.contains("s3cret")));
        assert!(!args.iter().any(|a| a == "--location" || a == "-L"));
        // An IP literal needs no --resolve; no CA, no credentials: no flags.
        let ip = Url::parse("https://127.0.0.1:8443/").unwrap();
        let args = arguments(&ip, &addrs[..1], &opts, None, false);
        for flag in ["--resolve", "--cacert", "--config"] {
            assert!(!args.iter().any(|a| a == flag), "{flag}");
        }
        assert_eq!(
            user_config("us%40er:p%22w\\"),
            "user = \"us@er:p\\\"w\\\\\"\n"
        );
    }

    #[test]
    fn the_body_is_counted_up_to_the_cap() {
        let body = vec![1u8; 200_000];
        assert_eq!(count_body(&body[..], u64::MAX).unwrap(), (200_000, false));
        assert_eq!(count_body(&body[..], 1000).unwrap(), (1000, true));
        assert_eq!(count_body(&body[..], 200_000).unwrap(), (200_000, false));
    }

    #[test]
    fn a_missing_curl_is_unavailable_with_what_to_do() {
        let lazy = LazyCurl::new(Some("/nonexistent/curl".into()), None);
        assert!(lazy.loaded().is_none());
        let e = lazy.get(&Interrupt::new()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.message.contains("install curl"), "{}", e.message);
        assert!(lazy.loaded().is_some_and(|r| r.is_err()));
    }
}
