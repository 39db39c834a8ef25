//! Encryption at rest for the few credentials this instance must keep in a form it can use
//! again: the tokens federation peers issued to it (`peers.remote_token`). Hashing, as for our own
//! tokens, is impossible there, since we present them to the peer.
//!
//! XChaCha20-Poly1305 (AEAD) with a 256-bit key that lives outside the database (a file or an
//! environment variable, see [`PeerKey`]), a random 192-bit nonce per value, and the peer's name as
//! associated data, so a sealed token copied to another peer's row does not open. A stolen
//! database (or backup) without the key reveals no usable peer credential. Sealed values are
//! text: `sealed:v1:` followed by the hex of nonce and ciphertext.

use crate::StoreError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// Prefix of every sealed value (and its format version).
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// The key that seals peer tokens. Its `Debug` shows no key material.
#[derive(Clone)]
pub struct PeerKey([u8; 32]);

impl std::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerKey(..)")
    }
}

impl PeerKey {
    /// A new random key (from the OS CSPRNG).
    pub fn generate() -> PeerKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        PeerKey(k)
    }

    /// Parse 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<PeerKey, StoreError> {
        let raw = hex::decode(text.trim()).map_err(|_| {
            StoreError::Invalid("peer key: expected 64 hex digits (32 bytes)".into())
        })?;
        let k: [u8; 32] = raw.try_into().map_err(|_| {
            StoreError::Invalid("peer key: expected 64 hex digits (32 bytes)".into())
        })?;
        if k == [0u8; 32] {
            return Err(StoreError::Invalid("peer key: all zeros".into()));
        }
        Ok(PeerKey(k))
    }

    /// Read a key file (64 hex digits). On Unix a file readable by group or others is refused:
    /// the key protects every peer credential.
    pub fn from_file(path: &std::path::Path) -> Result<PeerKey, StoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| {
                StoreError::Invalid(format!("peer key file {}: {e}", path.display()))
            })?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(StoreError::Invalid(format!(
                    "peer key file {} is readable by group or others; chmod 600 it",
                    path.display()
                )));
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::Invalid(format!("peer key file {}: {e}", path.display())))?;
        PeerKey::from_hex(&text)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", path.display())))
    }

    /// The key as 64 hex digits (to write a new key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Seal `plain`, bound to `context` (associated data).
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Invalid("cannot seal a value".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(out)))
    }

    /// Open a value sealed with [`PeerKey::seal`] under the same `context`. A wrong key, another
    /// context or any altered byte is an error, never garbage.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, StoreError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| StoreError::Corrupt("not a sealed value".into()))?;
        let raw = hex::decode(body).map_err(|_| StoreError::Corrupt("sealed value".into()))?;
        if raw.len() < 24 + 16 {
            return Err(StoreError::Corrupt("sealed value too short".into()));
        }
        let (nonce, ct) = raw.split_at(24);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                StoreError::Corrupt(format!(
                    "sealed value for `{context}` does not open with this key (wrong key, or altered)"
                ))
            })?;
        String::from_utf8(plain).map_err(|_| StoreError::Corrupt("sealed value: not UTF-8".into()))
    }
}

/// Whether a stored value is sealed (rather than plaintext from before encryption at rest).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_bind_the_context() {
        let k = PeerKey::generate();
        let s = k.seal("peer:hague", "cw_abc").unwrap();
        assert!(is_sealed(&s) && !s.contains("cw_abc"));
        assert_eq!(k.open("peer:hague", &s).unwrap(), "cw_abc");
        // Same plaintext, fresh nonce: different ciphertext.
        assert_ne!(s, k.seal("peer:hague", "cw_abc").unwrap());
        assert!(k.open("peer:seoul", &s).is_err(), "moved to another peer");
        assert!(
            PeerKey::generate().open("peer:hague", &s).is_err(),
            "wrong key"
        );
        let mut altered = s.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        assert!(k
            .open("peer:hague", &String::from_utf8(altered).unwrap())
            .is_err());
        assert!(k.open("peer:hague", "cw_plaintext").is_err());
        assert!(k.open("peer:hague", "sealed:v1:00").is_err());
    }

    #[test]
    fn keys_parse_strictly() {
        let k = PeerKey::generate();
        assert_eq!(
            PeerKey::from_hex(&format!(" {}\n", k.to_hex())).unwrap().0,
            k.0
        );
        assert!(PeerKey::from_hex("abcd").is_err());
        assert!(PeerKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(PeerKey::from_hex(&"00".repeat(32)).is_err());
        assert_eq!(format!("{k:?}"), "PeerKey(..)");
    }

    #[cfg(unix)]
    #[test]
    fn key_files_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("peer.key");
        std::fs::write(&p, PeerKey::generate().to_hex()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = PeerKey::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(PeerKey::from_file(&p).is_ok());
    }
}
