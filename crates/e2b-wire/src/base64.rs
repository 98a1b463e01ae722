//! Standard base64 (RFC 4648, padded), as protobuf JSON encodes `bytes`.
//! Decoding also accepts the URL-safe alphabet and missing padding, as
//! protobuf's JSON mapping requires. The `base64` crate does the work.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Padded on output, padding optional on input.
const CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// Encodes bytes as padded standard base64.
pub fn encode(input: &[u8]) -> String {
    STANDARD.encode(input)
}

/// Decodes standard or URL-safe base64, padded or not.
pub fn decode(input: &str) -> Option<Vec<u8>> {
    let engine = if input.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine.decode(input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "hi\n"] {
            assert_eq!(decode(&encode(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert!(decode("Z").is_none());
        assert!(decode("Zm9*").is_none());
        // The URL-safe alphabet: 0xfb 0xff is "+/8" in standard base64.
        assert_eq!(decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }
}
