//! The process-wide rustls crypto provider. reqwest and object_store are
//! built without a provider of their own (ring, not aws-lc: no cmake and a
//! smaller musl build), so every binary that speaks TLS installs this one
//! before its first connection.

use std::sync::Once;

/// Installs ring as the process-wide rustls provider (once; a provider that
/// is already installed is kept).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
