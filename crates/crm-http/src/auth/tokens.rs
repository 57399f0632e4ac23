//! Access tokens: short-lived JWTs signed with HS256, the only algorithm accepted. Every token
//! must carry `exp`, `iss`, `aud` and `sub`, the header type `at+jwt` (RFC 9068), and the user's
//! session generation, which ends the token early when the user's sessions are ended.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The `iss` of our tokens.
pub(crate) const ISSUER: &str = "crm";
/// The `aud` of our tokens.
pub(crate) const AUDIENCE: &str = "crm-api";
/// The JWT header `typ` of access tokens.
pub(crate) const TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub(crate) const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    /// The user's session generation when the token was issued.
    sgn: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedToken {
    pub(crate) user_id: String,
    pub(crate) session_generation: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    Expired,
    Invalid,
}

/// Most tokens remembered as verified; the memory is emptied when full.
const REMEMBERED_TOKENS: usize = 4096;

/// A token found genuine, with the times it is valid between.
#[derive(Debug, Clone)]
struct Remembered {
    verified: VerifiedToken,
    not_before: i64,
    expires: i64,
}

/// Signs and verifies access tokens.
pub(crate) struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub(crate) ttl: Duration,
    /// Tokens verified before: a client sends the same token with every request until it
    /// expires, and its signature, header and claims check the same each time; only the times
    /// are checked again.
    remembered: Mutex<HashMap<String, Remembered>>,
}

impl TokenKeys {
    pub(crate) fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` and `nbf` are checked by `verify_at`, against the same clock for a token
        // verified now and one remembered.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            remembered: Mutex::new(HashMap::new()),
        }
    }

    /// A token for `user_id` valid for the configured lifetime from `now`.
    pub(crate) fn issue(
        &self,
        user_id: &str,
        session_generation: i64,
        now: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            exp: iat + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iat,
            nbf: iat,
            jti: uuid::Uuid::now_v7().to_string(),
            sgn: session_generation,
        };
        let header = Header {
            typ: Some(TOKEN_TYPE.to_string()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The token's subject and session generation, when the token is genuine and current.
    pub(crate) fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.verify_at(token, Utc::now().timestamp())
    }

    /// [`verify`](Self::verify) at `now` (Unix seconds).
    fn verify_at(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        let known = self.remembered().get(token).cloned();
        let genuine = match known {
            Some(known) => known,
            None => {
                let genuine = self.check_signature_and_claims(token)?;
                let mut remembered = self.remembered();
                if remembered.len() >= REMEMBERED_TOKENS {
                    remembered.clear();
                }
                remembered.insert(token.to_string(), genuine.clone());
                genuine
            }
        };
        let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(0);
        if now > genuine.expires + leeway {
            return Err(TokenError::Expired);
        }
        if now < genuine.not_before - leeway {
            return Err(TokenError::Invalid);
        }
        Ok(genuine.verified)
    }

    /// Everything but the times: algorithm, signature, header type, issuer, audience and the
    /// required claims.
    fn check_signature_and_claims(&self, token: &str) -> Result<Remembered, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.header.typ.as_deref() != Some(TOKEN_TYPE) || data.claims.sub.is_empty() {
            return Err(TokenError::Invalid);
        }
        Ok(Remembered {
            verified: VerifiedToken {
                user_id: data.claims.sub,
                session_generation: data.claims.sgn,
            },
            not_before: data.claims.nbf,
            expires: data.claims.exp,
        })
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, Remembered>> {
        // The map holds only finished entries: one left by a panicking holder is still sound.
        self.remembered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[42; 32], Duration::from_secs(900))
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let token = keys.issue("user-1", 3, Utc::now()).unwrap_or_default();
        assert_eq!(
            keys.verify(&token),
            Ok(VerifiedToken {
                user_id: "user-1".into(),
                session_generation: 3
            })
        );
    }

    #[test]
    fn expiry_allows_only_the_leeway() {
        let keys = keys();
        let old = Utc::now() - chrono::Duration::seconds(900 + 10);
        let within = keys.issue("u", 0, old).unwrap_or_default();
        assert!(
            keys.verify(&within).is_ok(),
            "10 s past expiry is within the 30 s leeway"
        );
        let older = Utc::now() - chrono::Duration::seconds(900 + 31);
        let expired = keys.issue("u", 0, older).unwrap_or_default();
        assert_eq!(keys.verify(&expired), Err(TokenError::Expired));
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn a_remembered_token_is_still_checked_against_its_times() {
        let keys = keys();
        let issued = Utc::now().timestamp();
        let token = keys.issue("user-1", 2, at(issued)).unwrap_or_default();
        let verified = Ok(VerifiedToken {
            user_id: "user-1".into(),
            session_generation: 2,
        });
        assert_eq!(keys.verify_at(&token, issued), verified);
        assert_eq!(keys.remembered().len(), 1);
        assert_eq!(keys.verify_at(&token, issued + 900 + 30), verified);
        assert_eq!(
            keys.verify_at(&token, issued + 900 + 31),
            Err(TokenError::Expired)
        );
        assert_eq!(keys.verify_at(&token, issued - 30), verified);
        assert_eq!(
            keys.verify_at(&token, issued - 31),
            Err(TokenError::Invalid)
        );
        assert_eq!(keys.verify_at(&token, issued + 1), verified);
    }

    #[test]
    fn a_token_expired_when_first_seen_is_refused() {
        let keys = keys();
        let issued = Utc::now().timestamp() - 2000;
        let token = keys.issue("u", 0, at(issued)).unwrap_or_default();
        assert_eq!(
            keys.verify_at(&token, issued + 2000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_changed_token_is_refused_beside_the_remembered_genuine_one() {
        let keys = keys();
        let now = Utc::now().timestamp();
        let token = keys.issue("u", 0, at(now)).unwrap_or_default();
        assert!(keys.verify_at(&token, now).is_ok());
        let mut changed = token.clone();
        let last = if changed.ends_with('A') { 'B' } else { 'A' };
        changed.pop();
        changed.push(last);
        assert_eq!(keys.verify_at(&changed, now), Err(TokenError::Invalid));
        assert_eq!(keys.remembered().len(), 1);
    }

    #[test]
    fn the_remembered_tokens_stay_bounded() {
        let keys = keys();
        let now = Utc::now().timestamp();
        let tokens: Vec<String> = (0..=REMEMBERED_TOKENS)
            .map(|i| keys.issue(&format!("u{i}"), 0, at(now)).unwrap_or_default())
            .collect();
        for token in &tokens {
            assert!(keys.verify_at(token, now).is_ok());
        }
        let remembered = keys.remembered();
        assert_eq!(remembered.len(), 1);
        assert!(tokens
            .last()
            .is_some_and(|last| remembered.contains_key(last)));
    }

    #[test]
    fn another_secret_is_refused() {
        let token = TokenKeys::new(&[1; 32], Duration::from_secs(900))
            .issue("u", 0, Utc::now())
            .unwrap_or_default();
        assert_eq!(keys().verify(&token), Err(TokenError::Invalid));
    }
}
