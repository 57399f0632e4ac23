//! Access tokens: short-lived JWTs signed with HS256, the only algorithm accepted. Every token
//! must carry `exp`, `iss`, `aud` and `sub`, the header type `at+jwt` (RFC 9068), and the user's
//! session generation, which ends the token early when the user's sessions are ended.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
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

/// Signs and verifies access tokens.
pub(crate) struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub(crate) ttl: Duration,
}

impl TokenKeys {
    pub(crate) fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
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
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if data.header.typ.as_deref() != Some(TOKEN_TYPE) || data.claims.sub.is_empty() {
            return Err(TokenError::Invalid);
        }
        Ok(VerifiedToken {
            user_id: data.claims.sub,
            session_generation: data.claims.sgn,
        })
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

    #[test]
    fn another_secret_is_refused() {
        let token = TokenKeys::new(&[1; 32], Duration::from_secs(900))
            .issue("u", 0, Utc::now())
            .unwrap_or_default();
        assert_eq!(keys().verify(&token), Err(TokenError::Invalid));
    }
}
