//! The auth context: users, passwords, roles. Decisions here are pure functions of the
//! projection state and their inputs; hashing uses argon2id with salts from the OS.

pub mod projection;

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use rand::RngExt;

use crate::error::AppError;

/// Letters and digits that cannot be confused with one another when read aloud or copied.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A temporary password: 20 characters from the OS's random source (never from POPUG_SEED,
/// so a reproducible run never means a predictable password). About 114 bits.
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect()
}

/// argon2id with the crate's default parameters and a random salt; a PHC string.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            AppError::new(
                crate::error::Kind::Failure,
                "internal",
                format!("cannot hash a password: {e}"),
            )
        })
}

/// Checks a login: 1–32 characters, lowercase letters, digits, `.`, `_`, `-`, starting with a
/// letter. Logins appear in paths (Maildir) and in journals, so they stay this plain.
pub fn validate_login(login: &str) -> Result<(), AppError> {
    let ok = (1..=32).contains(&login.len())
        && login.starts_with(|c: char| c.is_ascii_lowercase())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::usage(format!("`{}` is not a valid login", login.escape_default()))
            .hint("a login is 1 to 32 characters: lowercase letters, digits, `.`, `_` or `-`, starting with a letter"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_unambiguous() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
    }

    #[test]
    fn password_hashes_are_argon2id_and_salted() {
        let h1 = hash_password("pw").unwrap();
        let h2 = hash_password("pw").unwrap();
        assert!(h1.starts_with("$argon2id$"), "{h1}");
        assert_ne!(h1, h2);
        assert!(!h1.contains("pw$"));
    }

    #[test]
    fn logins_are_plain() {
        for ok in ["admin", "popug3", "a.b-c_d"] {
            validate_login(ok).unwrap();
        }
        for bad in ["", "Admin", "1abc", "a b", "a/b", "../x", "ä", &"a".repeat(33)] {
            assert!(validate_login(bad).is_err(), "{bad}");
        }
    }
}
