//! Audit keys and signed checkpoints: the secrets that live outside the database.
//!
//! **Key file.** One key per line, `<key_id> <64 hex digits>` (32 random bytes); `#` starts a
//! comment. The *last* line is the key in force; earlier lines are retired keys, kept so that
//! entries MACed with them still verify. Rotating appends a line (see [`KeyRing::rotate_file`]);
//! the next audit write then appends an `audit.key_rotate` entry MACed with the old key that
//! names the new key id, and every later entry is MACed with the new key.
//!
//! **Checkpoints.** After every commit that appended audit entries the writer appends a
//! checkpoint line (JSON, [`Checkpoint`]) to a file outside the database: the head's sequence
//! number and MAC, signed with Ed25519. The signing key is derived from the audit key
//! (`HMAC-SHA256(key, "chipwatch audit checkpoint signing key v1")` as the Ed25519 seed), so
//! there is one secret to keep, and the *public* key travels with the checkpoint: federation
//! peers can check and keep our checkpoints without being able to forge our chain (with an HMAC
//! tag they would hold the very key that MACs our log).

use crate::StoreError;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

type HmacSha256 = Hmac<Sha256>;

/// One audit key. The secret is never printed (`Debug` shows the id only).
#[derive(Clone)]
pub struct AuditKey {
    pub id: String,
    secret: [u8; 32],
    /// Derived once: signing a checkpoint per commit and checking a long checkpoint file must
    /// not re-derive it every time.
    signing: SigningKey,
    public_hex: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id).finish()
    }
}

impl AuditKey {
    /// A fresh random key; its id is derived from the secret (`k` + 12 hex digits of its hash).
    pub fn generate() -> AuditKey {
        use rand::RngCore;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let id = format!("k{}", &hex::encode(Sha256::digest(secret))[..12]);
        AuditKey::build(id, secret)
    }

    fn build(id: String, secret: [u8; 32]) -> AuditKey {
        let mut m =
            <HmacSha256 as Mac>::new_from_slice(&secret).expect("HMAC takes any key length");
        m.update(b"chipwatch audit checkpoint signing key v1");
        let seed: [u8; 32] = m.finalize().into_bytes().into();
        let signing = SigningKey::from_bytes(&seed);
        let public_hex = hex::encode(signing.verifying_key().to_bytes());
        AuditKey {
            id,
            secret,
            signing,
            public_hex,
        }
    }

    /// A key from its id and secret bytes (tests and tools).
    pub fn from_parts(id: &str, secret: [u8; 32]) -> Result<AuditKey, StoreError> {
        check_key_id(id)?;
        Ok(AuditKey::build(id.to_string(), secret))
    }

    /// A fresh HMAC-SHA256 instance keyed with this key.
    pub(crate) fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; 32 bytes can never be rejected.
        <HmacSha256 as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length")
    }

    /// The Ed25519 public key that checks this key's checkpoints (hex).
    pub fn public_key_hex(&self) -> &str {
        &self.public_hex
    }

    fn line(&self) -> String {
        format!("{} {}\n", self.id, hex::encode(self.secret))
    }
}

fn check_key_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "audit key id `{id}`: use 1 to 64 of A-Z a-z 0-9 - _ ."
        )))
    }
}

/// The keys of one installation: the key in force and the retired ones.
#[derive(Debug, Clone)]
pub struct KeyRing {
    /// Oldest first; the last one is in force.
    keys: Vec<AuditKey>,
}

impl KeyRing {
    /// A ring from keys, oldest first (the last one is in force).
    pub fn new(keys: Vec<AuditKey>) -> Result<KeyRing, StoreError> {
        if keys.is_empty() {
            return Err(StoreError::Invalid("audit key ring is empty".into()));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(StoreError::Invalid(format!(
                    "audit key id `{}` appears twice",
                    k.id
                )));
            }
        }
        Ok(KeyRing { keys })
    }

    /// The key new entries are MACed with.
    pub fn current(&self) -> &AuditKey {
        // `new` and `load` guarantee at least one key.
        &self.keys[self.keys.len() - 1]
    }

    pub fn get(&self, id: &str) -> Option<&AuditKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Read a key file (see the module docs). Errors name the file and line.
    pub fn load(path: &Path) -> Result<KeyRing, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(m) = std::fs::metadata(path) {
                if m.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(file = %path.display(),
                        "audit key file is readable by other users; chmod 600 it");
                }
            }
        }
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                StoreError::Invalid(format!(
                    "audit key file {}:{}: {why}",
                    path.display(),
                    n + 1
                ))
            };
            let mut parts = line.split_whitespace();
            let (Some(id), Some(hexkey), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("expected `<key_id> <64 hex digits>`"));
            };
            check_key_id(id).map_err(|_| bad("key id must be 1 to 64 of A-Z a-z 0-9 - _ ."))?;
            let bytes = hex::decode(hexkey).map_err(|_| bad("secret is not hex"))?;
            let secret: [u8; 32] = bytes
                .try_into()
                .map_err(|_| bad("secret must be 32 bytes (64 hex digits)"))?;
            keys.push(AuditKey::build(id.to_string(), secret));
        }
        KeyRing::new(keys)
            .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))
    }

    /// Load the key file, or create it with one fresh key when it does not exist (owner-only
    /// permissions on Unix). Returns the ring and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(KeyRing, bool), StoreError> {
        if path.exists() {
            return Ok((KeyRing::load(path)?, false));
        }
        let key = AuditKey::generate();
        let mut f = create_private(path)?;
        f.write_all(b"# chipwatch audit keys: <key_id> <hex secret>; the last line is in force.\n")
            .and_then(|_| f.write_all(key.line().as_bytes()))
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))?;
        Ok((KeyRing::new(vec![key])?, true))
    }

    /// Append a fresh key to the key file (it becomes the key in force); returns its id.
    pub fn rotate_file(path: &Path) -> Result<String, StoreError> {
        // Parse first: never append to a file that is not a valid key file.
        KeyRing::load(path)?;
        let key = AuditKey::generate();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))?;
        f.write_all(key.line().as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))?;
        Ok(key.id)
    }
}

fn create_private(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .map_err(|e| StoreError::Invalid(format!("audit key file {}: {e}", path.display())))
}

/// A signed statement "the audit log's entry `seq` has MAC `hash`" (the head when written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub seq: i64,
    /// MAC of entry `seq` (hex).
    pub hash: String,
    /// Key the entry and the checkpoint were made with.
    pub key_id: String,
    /// Milliseconds since the unix epoch.
    pub ts: i64,
    /// Ed25519 public key (hex) that verifies `signature`.
    pub public_key: String,
    /// Ed25519 signature (hex) of [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: i64, hash: &str, key_id: &str, ts: i64) -> Vec<u8> {
        let mut m = b"chipwatch audit checkpoint v1".to_vec();
        for part in [&seq.to_string(), hash, key_id, &ts.to_string()] {
            m.extend_from_slice(&(part.len() as u64).to_le_bytes());
            m.extend_from_slice(part.as_bytes());
        }
        m
    }

    /// Sign the head `(seq, hash)` with `key`.
    pub fn sign(key: &AuditKey, seq: i64, hash: &str, ts: i64) -> Checkpoint {
        let sig = key
            .signing
            .sign(&Checkpoint::message(seq, hash, &key.id, ts));
        Checkpoint {
            seq,
            hash: hash.to_string(),
            key_id: key.id.clone(),
            ts,
            public_key: key.public_hex.clone(),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    /// Whether the signature is valid for the public key the checkpoint carries (what a peer,
    /// who has no secret, can check).
    pub fn self_signed_ok(&self) -> bool {
        let Some(pk) = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        else {
            return false;
        };
        let Some(sig) = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| ed25519_dalek::Signature::from_bytes(&b))
        else {
            return false;
        };
        pk.verify(
            &Checkpoint::message(self.seq, &self.hash, &self.key_id, self.ts),
            &sig,
        )
        .is_ok()
    }

    /// Whether the checkpoint was signed by a key of `ring` (what the owner checks: a valid
    /// signature under some other public key proves nothing).
    pub fn verify_with(&self, ring: &KeyRing) -> bool {
        match ring.get(&self.key_id) {
            Some(k) => k.public_key_hex() == self.public_key && self.self_signed_ok(),
            None => false,
        }
    }
}

/// The append-only checkpoint file.
#[derive(Debug)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    /// Open (creating it if needed) and check that it can be appended to, so a misconfigured
    /// path stops the start instead of the first write.
    pub fn open(path: &Path) -> Result<CheckpointFile, StoreError> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                StoreError::Invalid(format!("audit checkpoint file {}: {e}", path.display()))
            })?;
        Ok(CheckpointFile {
            path: path.to_path_buf(),
        })
    }

    /// The file at `path` for reading only (verification): nothing is created.
    pub fn at(path: &Path) -> CheckpointFile {
        CheckpointFile {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one checkpoint line. `O_APPEND` writes of one line are atomic with respect to
    /// other appenders; like the database's `synchronous=NORMAL` the line survives a killed
    /// process (no fsync per line).
    pub fn append(&self, cp: &Checkpoint) -> Result<(), StoreError> {
        let mut line = serde_json::to_string(cp)
            .map_err(|e| StoreError::Invalid(format!("checkpoint: {e}")))?;
        line.push('\n');
        // `create`: an operator may move a long file aside (archive it); the next line starts a
        // new one.
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                StoreError::Invalid(format!(
                    "audit checkpoint file {}: {e}",
                    self.path.display()
                ))
            })?;
        f.write_all(line.as_bytes()).map_err(|e| {
            StoreError::Invalid(format!(
                "audit checkpoint file {}: {e}",
                self.path.display()
            ))
        })
    }
}

/// What reading a checkpoint file found: the newest checkpoint signed by a key of the ring, and
/// the lines that are not (forged or damaged), by line number.
#[derive(Debug, Clone, Default)]
pub struct CheckpointScan {
    pub newest: Option<Checkpoint>,
    pub bad_lines: Vec<usize>,
    pub lines: usize,
}

/// Stream a checkpoint file (one line in memory at a time). A missing file reads as empty.
pub fn scan_checkpoints(path: &Path, ring: &KeyRing) -> Result<CheckpointScan, StoreError> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CheckpointScan::default()),
        Err(e) => {
            return Err(StoreError::Invalid(format!(
                "audit checkpoint file {}: {e}",
                path.display()
            )))
        }
    };
    let mut scan = CheckpointScan::default();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| {
            StoreError::Invalid(format!("audit checkpoint file {}: {e}", path.display()))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        scan.lines += 1;
        match serde_json::from_str::<Checkpoint>(&line) {
            Ok(cp) if cp.verify_with(ring) => {
                if scan.newest.as_ref().is_none_or(|n| cp.seq >= n.seq) {
                    scan.newest = Some(cp);
                }
            }
            _ => scan.bad_lines.push(n + 1),
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trip_rotation_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let (r1, created) = KeyRing::load_or_create(&p).unwrap();
        assert!(created);
        let (r2, created) = KeyRing::load_or_create(&p).unwrap();
        assert!(!created);
        assert_eq!(r1.current().id, r2.current().id);
        let new_id = KeyRing::rotate_file(&p).unwrap();
        let r3 = KeyRing::load(&p).unwrap();
        assert_eq!(r3.current().id, new_id);
        assert!(r3.get(&r1.current().id).is_some(), "retired key kept");

        std::fs::write(&p, "k1 abcd\n").unwrap();
        let e = KeyRing::load(&p).unwrap_err().to_string();
        assert!(e.contains(":1:") && e.contains("32 bytes"), "{e}");
        std::fs::write(&p, "# only a comment\n").unwrap();
        assert!(KeyRing::load(&p).is_err());
    }

    #[test]
    fn checkpoints_verify_only_under_the_right_key() {
        let k = AuditKey::from_parts("a", [1; 32]).unwrap();
        let other = AuditKey::from_parts("a", [2; 32]).unwrap();
        let cp = Checkpoint::sign(&k, 7, "ab", 1000);
        assert!(cp.self_signed_ok());
        assert!(cp.verify_with(&KeyRing::new(vec![k.clone()]).unwrap()));
        // Signed by a different secret under the same id: a forger's checkpoint.
        let forged = Checkpoint::sign(&other, 9, "cd", 1000);
        assert!(forged.self_signed_ok());
        assert!(!forged.verify_with(&KeyRing::new(vec![k.clone()]).unwrap()));
        let mut moved = cp.clone();
        moved.seq = 8;
        assert!(!moved.self_signed_ok());
    }
}
