//! Keeps secrets out of every log line and every written document.
//!
//! There is exactly one redaction path: the logger ([`crate::logging`]) runs
//! each formatted line through [`redact_str`], and every sink runs each
//! document through [`redact_json`] before serializing it. Three rules apply:
//!
//! 1. **Known values.** Secrets loaded from `.e2b_env` or the process
//!    environment (any variable whose name looks secret, see
//!    [`is_secret_name`]) are registered with [`register_secret`] and masked
//!    wherever they appear, even inside unrelated text.
//! 2. **Shapes.** The password of a URL (`scheme://user:PASSWORD@host`), E2B
//!    API keys and access tokens (`e2b_…`, `sk_e2b_…`), and the value of any
//!    `name=value` / `name: value` pair whose name looks secret (query
//!    parameters such as `X-Amz-Signature` or `sig`, headers such as
//!    `X-API-Key` or `Authorization: Bearer …`, env lines).
//! 3. **Document keys.** In JSON, a string under a secret-looking key
//!    (`envdAccessToken`, `password`, …) is replaced whole.
//!
//! Masked text becomes [`MASK`].

use std::sync::RwLock;

use serde_json::Value;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Secrets shorter than this are not registered: masking every `ab` in a log
/// would destroy it while protecting nothing a guess wouldn't find.
const MIN_SECRET_LEN: usize = 4;

/// E2B keys look like `e2b_` + 40 hex digits; require a long tail so prose
/// mentioning `e2b_env` is left alone.
const E2B_KEY_PREFIX: &str = "e2b_";
const E2B_KEY_MIN_TAIL: usize = 16;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value so it is masked wherever it appears later.
/// Values shorter than 4 characters are ignored.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_owned());
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the values of every secret-looking variable of an environment
/// (names per [`is_secret_name`]), and the passwords of URL-valued ones.
/// Values that are settings rather than secrets (`USE_TOKEN=true`,
/// `TOKEN_TTL=3600`) are skipped: masking every `true` or `3600` would
/// corrupt labels such as `"direct": "true"` in documents.
pub fn register_env_secrets<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (name, value) in vars {
        if is_secret_name(name) && !looks_like_setting(value) {
            register_secret(value);
        }
        if let Some(password) = url_password(value) {
            register_secret(password);
        }
    }
}

/// Booleans and plain numbers: what a flag or a duration looks like.
fn looks_like_setting(value: &str) -> bool {
    let v = value.trim();
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "none", "null", "enabled", "disabled",
    ];
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
        || v.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// True when a variable, header, parameter or JSON key name suggests its
/// value is a secret: a word such as `secret`, `password`, `token`,
/// `signature`, `sig`, `credential`, `authorization`, or a pair such as
/// `api key`, `access key`, `account key`, `private key` (in any of
/// `SNAKE_CASE`, `kebab-case`, `camelCase`).
pub fn is_secret_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "pwd",
        "token",
        "apikey",
        "signature",
        "sig",
        "credential",
        "credentials",
        "authorization",
        "sas",
    ];
    const FIRST_OF_PAIR: &[&str] = &["api", "access", "account", "private", "secret", "master"];
    // Glued forms such as PGPASSWORD or MYTOKEN.
    const SUFFIXES: &[&str] = &["password", "passwd", "secret", "token", "apikey"];
    // The shell's working directories are paths, not passwords.
    if name.eq_ignore_ascii_case("PWD") || name.eq_ignore_ascii_case("OLDPWD") {
        return false;
    }
    let words = split_words(name);
    words
        .iter()
        .any(|w| WORDS.contains(&w.as_str()) || SUFFIXES.iter().any(|s| w.ends_with(s)))
        || words
            .windows(2)
            .any(|p| p[1] == "key" && FIRST_OF_PAIR.contains(&p[0].as_str()))
}

/// Splits `envdAccessToken`, `X-Amz-Signature`, `E2B_API_KEY` into lower-case words.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        current.push(ch.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Returns `text` with every secret masked (rules 1 and 2 of the module doc).
pub fn redact_str(text: &str) -> String {
    let mut out = text.to_owned();
    {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    if out.contains("://") {
        out = mask_url_passwords(&out);
    }
    if out.contains(E2B_KEY_PREFIX) {
        out = mask_e2b_keys(&out);
    }
    if out.contains(['=', ':']) {
        out = mask_secret_assignments(&out);
    }
    out
}

/// Masks secrets in every string of a JSON value, and replaces whole any
/// string stored under a secret-looking key (rule 3).
pub fn redact_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            let redacted = redact_str(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(s) if is_secret_name(key) && !s.is_empty() => {
                        *s = MASK.to_owned();
                    }
                    _ => redact_json(item),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The password part of `scheme://user:password@host…`, if any.
fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

fn mask_url_passwords(text: &str) -> String {
    rewrite_url_userinfo(text, |userinfo| match userinfo.split_once(':') {
        Some((user, password)) if !password.is_empty() && password != MASK => {
            Some(format!("{user}:{MASK}"))
        }
        _ => Some(userinfo.to_owned()),
    })
}

/// `text` with the whole `user:password@` (or `token@`) of every URL in it
/// removed: for command output quoted in a document (a package manager's
/// stderr names its index URL), where even a user name may be a token.
pub fn strip_url_userinfo(text: &str) -> String {
    rewrite_url_userinfo(text, |_| None)
}

/// Passes the userinfo of every `scheme://userinfo@host` in `text` to
/// `rewrite`: `Some(s)` puts `s@` back in its place, `None` drops it. The
/// authority ends at the path, query or fragment, white space, or a quote or
/// angle bracket (URLs quoted in JSON, shell or HTML).
fn rewrite_url_userinfo(text: &str, rewrite: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                if let Some(kept) = rewrite(userinfo) {
                    out.push_str(&kept);
                    out.push('@');
                }
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

fn mask_e2b_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(E2B_KEY_PREFIX) {
        let tail = &rest[pos + E2B_KEY_PREFIX.len()..];
        let tail_len = tail
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tail.len());
        out.push_str(&rest[..pos + E2B_KEY_PREFIX.len()]);
        if tail_len >= E2B_KEY_MIN_TAIL {
            out.push_str(MASK);
        } else {
            out.push_str(&tail[..tail_len]);
        }
        rest = &tail[tail_len..];
    }
    out.push_str(rest);
    out
}

/// Masks the value after `name=` or `name:` when `name` looks secret.
fn mask_secret_assignments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let sep = bytes[i];
        if sep != b'=' && sep != b':' {
            i += 1;
            continue;
        }
        // The name ends right before the separator, allowing a closing quote
        // (`"token": "…"`).
        let mut name_end = i;
        if name_end > 0 && matches!(bytes[name_end - 1], b'"' | b'\'') {
            name_end -= 1;
        }
        let name_start = text[..name_end]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.'))
            // Past the delimiter, which may be wider than one byte (`×`).
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = &text[name_start..name_end];
        if name.is_empty() || !is_secret_name(name) {
            i += 1;
            continue;
        }
        // Value: skip blanks and an opening quote, then an auth scheme word.
        let mut start = i + 1;
        while start < bytes.len() && bytes[start] == b' ' {
            start += 1;
        }
        if start < bytes.len() && matches!(bytes[start], b'"' | b'\'') {
            start += 1;
        }
        for scheme in ["Bearer ", "Basic ", "bearer ", "basic "] {
            if text[start..].starts_with(scheme) {
                start += scheme.len();
            }
        }
        let end = text[start..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';' | '}' | ')')
            })
            .map_or(text.len(), |p| start + p);
        // Values shorter than a secret can be (`=1`, `: true`) are flags,
        // not secrets; masking them only hides what a reader needs.
        if end >= start + MIN_SECRET_LEN && &text[start..end] != MASK {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_text_before_a_separator_is_not_split() {
        let line = "create failed 11×: 500 from POST /v2/sandboxes";
        assert_eq!(redact_str(line), line);
        assert_eq!(redact_str("é token=abcdef123"), "é token=***");
    }

    #[test]
    fn secret_names() {
        for name in [
            "E2B_API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "envdAccessToken",
            "trafficAccessToken",
            "X-API-Key",
            "X-Access-Token",
            "X-Amz-Signature",
            "X-Amz-Credential",
            "sig",
            "Authorization",
            "PGPASSWORD",
            "password",
            "DB_PWD",
            // An access key id is not secret by itself, but it is half of a
            // credential pair: masking it costs nothing.
            "AWS_ACCESS_KEY_ID",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "E2B_DOMAIN",
            "E2B_API_URL",
            "template",
            "max_prime",
            "key",
            "run_id",
            "signals",
            "tokens_total",
            // The shell's working directory would otherwise mask every path.
            "PWD",
            "OLDPWD",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn url_passwords_are_masked_users_kept() {
        assert_eq!(
            redact_str("postgresql://postgres:hunter2@db:5432/e2b?sslmode=disable"),
            "postgresql://postgres:***@db:5432/e2b?sslmode=disable"
        );
        assert_eq!(
            redact_str("connect to postgres://postgres@db/e2b now"),
            "connect to postgres://postgres@db/e2b now"
        );
        assert_eq!(
            redact_str("a https://u:p@x.io/ and s3://b/k"),
            "a https://u:***@x.io/ and s3://b/k"
        );
    }

    #[test]
    fn e2b_keys_are_masked_prose_is_not() {
        let key = format!("e2b_{}", "0123456789abcdef".repeat(2));
        assert_eq!(redact_str(&format!("key {key}.")), "key e2b_***.");
        assert_eq!(redact_str("sk_e2b_0123456789abcdef0123"), "sk_e2b_***");
        assert_eq!(redact_str("read .e2b_env first"), "read .e2b_env first");
    }

    #[test]
    fn assignments_headers_and_query_parameters() {
        assert_eq!(
            redact_str("export E2B_API_KEY=abc123def"),
            "export E2B_API_KEY=***"
        );
        assert_eq!(
            redact_str("GET /o?X-Amz-Credential=AKIA/x&X-Amz-Signature=deadbeef&part=1"),
            "GET /o?X-Amz-Credential=***&X-Amz-Signature=***&part=1"
        );
        assert_eq!(
            redact_str("Authorization: Bearer abc.def.ghi"),
            "Authorization: Bearer ***"
        );
        assert_eq!(
            redact_str(r#"{"envdAccessToken": "tok123"}"#),
            r#"{"envdAccessToken": "***"}"#
        );
        assert_eq!(
            redact_str("set E2B_BENCH_INSTANCE_CREDENTIALS=1 to opt in"),
            "set E2B_BENCH_INSTANCE_CREDENTIALS=1 to opt in"
        );
        assert_eq!(
            redact_str("started at 10:15:00, template: base"),
            "started at 10:15:00, template: base"
        );
    }

    #[test]
    fn registered_values_are_masked_anywhere() {
        register_secret("zq-registered-secret-7");
        register_secret("ab"); // too short: ignored
        assert_eq!(
            redact_str("label=zq-registered-secret-7x and ab"),
            "label=***x and ab"
        );
        register_env_secrets([
            ("AWS_SECRET_ACCESS_KEY", "zq-aws-secret-value"),
            ("DATABASE_URL", "postgres://u:zq-db-pass@h/db"),
            ("E2B_DOMAIN", "zq-domain.example"),
        ]);
        assert_eq!(redact_str("x zq-aws-secret-value zq-db-pass"), "x *** ***");
        // Settings under secret-looking names are not secrets.
        register_env_secrets([
            ("USE_TOKEN", "true"),
            ("TOKEN_TTL", "3600"),
            ("SECRET_FLAG", "Disabled"),
        ]);
        assert_eq!(redact_str("true 3600 Disabled"), "true 3600 Disabled");
        assert_eq!(redact_str("zq-domain.example"), "zq-domain.example");
    }

    #[test]
    fn json_keys_and_nested_strings() {
        let mut doc = serde_json::json!({
            "parameters": {
                "api_url": "https://admin:pw123@api.example.com",
                "envdAccessToken": "plain-token",
                "count": 3,
                "targets": ["https://x:y@h/", "ok"],
            }
        });
        redact_json(&mut doc);
        assert_eq!(
            doc,
            serde_json::json!({
                "parameters": {
                    "api_url": "https://admin:***@api.example.com",
                    "envdAccessToken": "***",
                    "count": 3,
                    "targets": ["https://x:***@h/", "ok"],
                }
            })
        );
    }

    #[test]
    fn userinfo_is_stripped_from_urls() {
        assert_eq!(
            strip_url_userinfo(
                "Looking in indexes: https://user:s3cret@pypi.example.com/simple/ and more"
            ),
            "Looking in indexes: https://pypi.example.com/simple/ and more"
        );
        assert_eq!(
            strip_url_userinfo("http://token@127.0.0.1:8080, https://a:b@c.d"),
            "http://127.0.0.1:8080, https://c.d"
        );
        // An @ after the host is not userinfo.
        assert_eq!(
            strip_url_userinfo("https://registry.npmjs.org/@types%2fnode x@y"),
            "https://registry.npmjs.org/@types%2fnode x@y"
        );
        assert_eq!(strip_url_userinfo("no url here"), "no url here");
        assert_eq!(strip_url_userinfo("odd ://"), "odd ://");
    }
}
