//! Passwords, opaque tokens and API keys: generation, hashing and verification.
//!
//! Passwords are hashed with argon2id at OWASP's recommended parameters (19 MiB, 2 passes,
//! 1 lane). Refresh tokens and API keys are 256-bit random values; only their SHA-256 is stored,
//! which is enough for secrets with that much entropy and keeps the lookup a plain index hit.

use std::sync::Mutex;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::DomainError;

/// The prefix of every API key, so secret scanners and people recognise one.
pub const API_KEY_PREFIX: &str = "crm_";

fn argon2() -> Result<Argon2<'static>, DomainError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(DomainError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Argon2's working memory (19 MiB per hash), kept for the next hash instead of freed. Freeing
/// it let the system allocator raise its threshold for fresh mappings and keep the buffers of
/// every thread that ever hashed: a server that signed in fifty users held over 300 MB. Kept
/// here, a server holds one buffer per hash that ran at the same time.
static WORKING_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Hashes `password` with `salt` into `out`, in pooled working memory.
fn hash_into(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let needed = argon2.params().block_count();
    let mut blocks = WORKING_MEMORY
        .lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .unwrap_or_default();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let hashed = argon2
        .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
        .is_ok();
    if let Ok(mut pool) = WORKING_MEMORY.lock() {
        pool.push(blocks);
    }
    hashed
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], DomainError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// The argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, DomainError> {
    let salt_bytes: [u8; 16] = random_bytes()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(DomainError::internal)?;
    let argon2 = argon2()?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !hash_into(&argon2, password.as_bytes(), &salt_bytes, &mut out) {
        return Err(DomainError::internal("password hashing failed"));
    }
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(DomainError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(DomainError::internal)?),
    };
    Ok(hash.to_string())
}

/// A well-formed argon2id hash at the same parameters, matching no password anyone knows.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Jbyc3u2xb4V4CrT7eDmwmWH5EJYVq4PB9RxCCYxFU1c";

/// Whether `password` matches the PHC string `hash`. With `hash` = `None` (no such account) a
/// fixed hash is checked instead, so an unknown email costs as much time as a wrong password.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    matches_hash(password, hash.unwrap_or(DECOY)) && hash.is_some()
}

/// Whether `password` hashes to the PHC string `hash`, at the algorithm, version, parameters
/// and salt the string names; the outputs are compared in constant time.
fn matches_hash(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let Ok(salt) = Salt::decode_b64(&salt, &mut salt_buffer) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    hash_into(&argon2, password.as_bytes(), salt, &mut out)
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// A new opaque token (refresh token): 256 random bits, base64url.
pub fn new_token() -> Result<String, DomainError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A new API key: `crm_` followed by 256 random bits in base64url.
pub fn new_api_key() -> Result<String, DomainError> {
    Ok(format!("{API_KEY_PREFIX}{}", new_token()?))
}

/// The stored form of a token or key: hex SHA-256.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery!", Some(&hash)));
    }

    /// Hashes made before working memory was pooled (argon2's own hasher) still verify, and
    /// argon2's own verifier accepts the hashes made now.
    #[test]
    fn hashes_agree_with_argon2s_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(b"sixteen byte slt").map_err(|e| e.to_string());
        let theirs = salt.and_then(|salt| {
            argon2()
                .map_err(|e| e.to_string())?
                .hash_password(b"tr0ub4dor&3", &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        });
        let theirs = theirs.unwrap_or_default();
        assert!(
            theirs.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{theirs}"
        );
        assert!(verify_password("tr0ub4dor&3", Some(&theirs)));
        assert!(!verify_password("tr0ub4dor&4", Some(&theirs)));

        let ours = hash_password("tr0ub4dor&3").unwrap_or_default();
        let parsed = PasswordHash::new(&ours);
        assert!(parsed.is_ok(), "{ours}");
        let verified = parsed.map(|parsed| {
            Argon2::default()
                .verify_password(b"tr0ub4dor&3", &parsed)
                .is_ok()
        });
        assert_eq!(verified, Ok(true));
        assert_ne!(ours, hash_password("tr0ub4dor&3").unwrap_or_default());
    }

    /// A malformed stored hash is a mismatch, never an error or a panic.
    #[test]
    fn malformed_hashes_never_verify() {
        for hash in [
            "",
            "plain text",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA",
            "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Jbyc3u2xb4V4CrT7eDmwmWH5EJYVq4PB9RxCCYxFU1c",
            "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$Jbyc3u2xb4V4CrT7eDmwmWH5EJYVq4PB9RxCCYxFU1c",
        ] {
            assert!(!verify_password("anything", Some(hash)), "{hash}");
        }
    }

    #[test]
    fn unknown_account_never_verifies() {
        assert!(!verify_password("anything at all", None));
    }

    /// The decoy must parse, or an unknown email would skip the hashing work and answer faster.
    #[test]
    fn decoy_costs_a_full_verification() {
        let parsed = PasswordHash::new(DECOY);
        assert!(parsed.is_ok());
        let mut buffer = [0u8; Salt::MAX_LENGTH];
        let salt = parsed.as_ref().ok().and_then(|p| p.salt);
        assert_eq!(
            salt.and_then(|s| s.decode_b64(&mut buffer).ok()),
            Some(&b"saltsaltsaltsalt"[..])
        );
        assert!(parsed.as_ref().is_ok_and(|p| Params::try_from(p).is_ok()));
        assert_eq!(
            parsed.map(|p| p.params.to_string()).ok().as_deref(),
            Some("m=19456,t=2,p=1")
        );
    }

    #[test]
    fn tokens_are_random_and_digests_stable() {
        let a = new_token().unwrap_or_default();
        let b = new_token().unwrap_or_default();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(new_api_key().unwrap_or_default().starts_with("crm_"));
    }
}
