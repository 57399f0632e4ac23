//! Passwords, opaque tokens and API keys: generation, hashing and verification.
//!
//! Passwords are hashed with argon2id at OWASP's recommended parameters (19 MiB, 2 passes,
//! 1 lane). Refresh tokens and API keys are 256-bit random values; only their SHA-256 is stored,
//! which is enough for secrets with that much entropy and keeps the lookup a plain index hit.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(DomainError::internal)
}

/// A well-formed argon2id hash at the same parameters, matching no password anyone knows.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Jbyc3u2xb4V4CrT7eDmwmWH5EJYVq4PB9RxCCYxFU1c";

/// Whether `password` matches the PHC string `hash`. With `hash` = `None` (no such account) a
/// fixed hash is checked instead, so an unknown email costs as much time as a wrong password.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let Ok(argon2) = argon2() else {
        return false;
    };
    let Ok(parsed) = PasswordHash::new(hash.unwrap_or(DECOY)) else {
        return false;
    };
    argon2.verify_password(password.as_bytes(), &parsed).is_ok() && hash.is_some()
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

    #[test]
    fn unknown_account_never_verifies() {
        assert!(!verify_password("anything at all", None));
    }

    /// The decoy must parse, or an unknown email would skip the hashing work and answer faster.
    #[test]
    fn decoy_costs_a_full_verification() {
        let parsed = PasswordHash::new(DECOY);
        assert!(parsed.is_ok());
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
