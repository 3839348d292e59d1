//! Users, roles, sessions and CSRF protection.
//!
//! Passwords are hashed with argon2id (PHC strings). A log-in creates a session: a random
//! 256-bit token in an `HttpOnly`, `SameSite=Strict` cookie, of which the database keeps only
//! the sha256, and a CSRF token that every state-changing request must echo in the
//! `X-CSRF-Token` header. What a role may do is decided here, in one table.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::Digest;

/// The roles of the people who use the IOC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// IOC operator: live wall, alerts, counts, people.
    Operator,
    /// Traffic police: events and plates.
    Police,
    /// Site security: the gate view, alerts, enrolment of staff and visitors.
    Security,
    /// Everything, and user accounts.
    Admin,
}

pub const ROLES: [&str; 4] = ["operator", "police", "security", "admin"];

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(Role::Operator),
            "police" => Some(Role::Police),
            "security" => Some(Role::Security),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Police => "police",
            Role::Security => "security",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do `p`.
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(p, ViewEvents | ViewPersonalData | HandleAlerts | Enrol),
            Role::Security => matches!(p, ViewEvents | ViewPersonalData | HandleAlerts | Enrol),
            Role::Police => matches!(p, ViewEvents | ViewPersonalData),
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Events, counts and edge status.
    ViewEvents,
    /// Faces, identities, watch-list hits, plates (every access is audited).
    ViewPersonalData,
    /// Moving alerts through their states.
    HandleAlerts,
    /// Enrolling and removing people.
    Enrol,
    /// User accounts and the audit log.
    Admin,
}

/// Checks a user name: 1-64 characters from `A-Z a-z 0-9 . _ - @` (so `nguyen.van.an` and
/// e-mail-like names work).
pub fn validate_username(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadUsername {
            got: name.to_owned(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("user name {got:?} is not valid: use 1-64 characters from A-Z a-z 0-9 . _ - @")]
    BadUsername { got: String },
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password must be at least {min} characters (got {got})")]
    WeakPassword { min: usize, got: usize },
}

pub const MIN_PASSWORD_CHARS: usize = 8;

/// An argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword {
            min: MIN_PASSWORD_CHARS,
            got: n,
        });
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash (constant-time inside argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random token, hex (256 bits).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// What the database keeps of a session token.
pub fn token_digest(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub const SESSION_COOKIE: &str = "gw_session";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_no_other() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").expect("hash"), "salted");
    }

    #[test]
    fn short_passwords_are_refused_with_the_minimum_named() {
        let e = hash_password("short").expect_err("weak");
        assert!(e.to_string().contains("at least 8"), "{e}");
    }

    #[test]
    fn police_may_read_but_not_handle_alerts_or_enrol() {
        assert!(Role::Police.may(Permission::ViewEvents));
        assert!(!Role::Police.may(Permission::HandleAlerts));
        assert!(!Role::Police.may(Permission::Enrol));
        assert!(!Role::Operator.may(Permission::Admin));
        assert!(Role::Admin.may(Permission::Admin));
        for r in ROLES {
            assert_eq!(Role::parse(r).map(Role::as_str), Some(r));
        }
    }

    #[test]
    fn user_names_with_dots_and_at_signs_are_fine_and_spaces_or_slashes_are_not() {
        for ok in [
            "nguyen.van.an",
            "lan",
            "csgt_hcm-01",
            "an@ioc.quangninh.gov.vn",
        ] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "nguyễn", "a b", "a/b", &"x".repeat(65)] {
            let e = validate_username(bad).expect_err("refused");
            assert!(e.to_string().contains("1-64 characters"), "{e}");
        }
    }

    #[test]
    fn tokens_are_random_and_compared_in_constant_time() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq("ab", "abc"));
    }
}
