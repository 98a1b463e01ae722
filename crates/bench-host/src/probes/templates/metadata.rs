//! `metadata.json` of a build, in the two formats found in the field: the
//! flat one (`kernelVersion`, `firecrackerVersion`, `buildID`, `templateID`,
//! maybe `envdVersion`) and infra's versioned one (`version`, `template:
//! {build_id, kernel_version, firecracker_version, template_id?}`, …).

use serde_json::Value;

/// Which of the two formats a `metadata.json` is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{kernelVersion, firecrackerVersion, buildID, templateID}`.
    Flat,
    /// infra's `{version, template: {...}}`.
    V2,
}

impl Format {
    /// The contract's `metadata_format` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Flat => "flat",
            Format::V2 => "v2",
        }
    }
}

/// What the report and the audit use from a `metadata.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub format: Format,
    /// `version` of the v2 format (as text: it is a number in the field).
    pub version: Option<String>,
    pub build_id: Option<String>,
    pub template_id: Option<String>,
    pub kernel_version: Option<String>,
    pub firecracker_version: Option<String>,
    pub envd_version: Option<String>,
}

/// Parses the text of a `metadata.json`. The error says what is wrong, for
/// the build's `reason`.
pub fn parse(text: &[u8]) -> Result<Metadata, String> {
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        if e.is_eof() {
            format!(
                "metadata.json is truncated (JSON ends at line {})",
                e.line()
            )
        } else {
            format!("metadata.json is not valid JSON: {e}")
        }
    })?;
    let Value::Object(top) = &value else {
        return Err("metadata.json is not a JSON object".to_owned());
    };
    if let Some(template) = top.get("template") {
        let Value::Object(t) = template else {
            return Err("metadata.json: `template` is not an object".to_owned());
        };
        let version = match top.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("metadata.json: `version` is not a number".to_owned()),
        };
        let field = |name: &str| text_field(t, name, "template.");
        return Ok(Metadata {
            format: Format::V2,
            version,
            build_id: field("build_id")?,
            template_id: field("template_id")?,
            kernel_version: field("kernel_version")?,
            firecracker_version: field("firecracker_version")?,
            envd_version: field("envd_version")?,
        });
    }
    const FLAT: [&str; 5] = [
        "kernelVersion",
        "firecrackerVersion",
        "buildID",
        "templateID",
        "envdVersion",
    ];
    if !FLAT.iter().any(|k| top.contains_key(*k)) {
        return Err(
            "metadata.json has neither format (no `template` object, no kernelVersion/buildID)"
                .to_owned(),
        );
    }
    let field = |name: &str| text_field(top, name, "");
    Ok(Metadata {
        format: Format::Flat,
        version: None,
        build_id: field("buildID")?,
        template_id: field("templateID")?,
        kernel_version: field("kernelVersion")?,
        firecracker_version: field("firecrackerVersion")?,
        envd_version: field("envdVersion")?,
    })
}

/// A string field; absent, null or empty is None, another type an error.
fn text_field(
    map: &serde_json::Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<Option<String>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(format!(
            "metadata.json: `{prefix}{name}` is not a string ({other})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_format() {
        let m = parse(
            br#"{"kernelVersion":"vmlinux-6.1.102","firecrackerVersion":"v1.10.1_1fcdaec","buildID":"b1","templateID":"base","envdVersion":"0.2.0"}"#,
        )
        .unwrap();
        assert_eq!(m.format, Format::Flat);
        assert_eq!(m.build_id.as_deref(), Some("b1"));
        assert_eq!(m.template_id.as_deref(), Some("base"));
        assert_eq!(m.kernel_version.as_deref(), Some("vmlinux-6.1.102"));
        assert_eq!(m.firecracker_version.as_deref(), Some("v1.10.1_1fcdaec"));
        assert_eq!(m.envd_version.as_deref(), Some("0.2.0"));
    }

    #[test]
    fn v2_format() {
        let m = parse(
            br#"{"version":2,"template":{"build_id":"b2","kernel_version":"vmlinux-6.1.158","firecracker_version":"v1.12.1"},
                "context":{"user":"user","workdir":"/home/user","env_vars":{}},"start":null,"from_image":"ubuntu"}"#,
        )
        .unwrap();
        assert_eq!(m.format, Format::V2);
        assert_eq!(m.version.as_deref(), Some("2"));
        assert_eq!(m.build_id.as_deref(), Some("b2"));
        assert_eq!(m.template_id, None);
        assert_eq!(m.envd_version, None);
        assert_eq!(m.kernel_version.as_deref(), Some("vmlinux-6.1.158"));
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(
            parse(br#"{"kernelVersion":"vml"#)
                .unwrap_err()
                .contains("truncated")
        );
        assert!(parse(b"{,}").unwrap_err().contains("not valid JSON"));
        assert!(parse(b"[1]").unwrap_err().contains("not a JSON object"));
        assert!(parse(b"{\"a\":1}").unwrap_err().contains("neither format"));
        assert!(
            parse(br#"{"buildID":7}"#)
                .unwrap_err()
                .contains("`buildID` is not a string")
        );
        assert!(
            parse(br#"{"version":2,"template":[]}"#)
                .unwrap_err()
                .contains("not an object")
        );
    }
}
