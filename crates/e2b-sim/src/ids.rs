//! Seeded pseudo-random numbers, sandbox ids and access tokens.

/// SplitMix64: tiny, fast, good enough for ids and for sampling delays.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box-Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A sandbox id as E2B makes them: 20 characters of `[a-z0-9]`.
pub fn sandbox_id(rng: &mut Rng) -> String {
    let mut id = String::with_capacity(20);
    while id.len() < 20 {
        let mut bits = rng.next_u64();
        // 10 draws of 6 bits each; rejection keeps the 36 symbols uniform.
        for _ in 0..10 {
            let v = (bits & 63) as usize;
            bits >>= 6;
            if v < 36 && id.len() < 20 {
                id.push(ID_ALPHABET[v] as char);
            }
        }
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
        let mut rng = Rng::new(7);
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
