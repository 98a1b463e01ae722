//! Sandbox ids and access tokens, drawn from bench-core's seeded generator.

/// The emulator's one generator (ids, delays, faults): bench-core's
/// xoshiro256++, seeded with [`Rng::seed_from_u64`].
pub use bench_core::stats::Rng;

const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A sandbox id as E2B makes them: 20 characters of `[a-z0-9]`.
pub fn sandbox_id(rng: &mut Rng) -> String {
    let mut id = String::with_capacity(20);
    for _ in 0..20 {
        id.push(char::from(ID_ALPHABET[rng.index(ID_ALPHABET.len())]));
    }
    id
}

/// A hex token of `bytes` random bytes (envd access tokens).
pub fn hex_token(rng: &mut Rng, bytes: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes * 2);
    let mut left = bytes;
    while left > 0 {
        let word = rng.next_u64().to_le_bytes();
        for b in word.iter().take(left.min(8)) {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        left -= left.min(8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_e2b_shape_and_differ() {
        let mut rng = Rng::seed_from_u64(7);
        let a = sandbox_id(&mut rng);
        let b = sandbox_id(&mut rng);
        assert_eq!(a.len(), 20);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_ne!(a, b);
        assert_eq!(hex_token(&mut rng, 16).len(), 32);
    }
}
