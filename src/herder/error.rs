//! Herder errors, each carrying the HTTP status and Connect's message text.

use thiserror::Error;

/// A failed herder request. The REST layer maps the variant to the status code.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HerderError {
    /// 400.
    #[error("{0}")]
    BadRequest(String),
    /// 403.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 500.
    #[error("{0}")]
    Internal(String),
}

impl HerderError {
    /// The HTTP status code (also the `error_code`).
    pub fn status(&self) -> u16 {
        match self {
            HerderError::BadRequest(_) => 400,
            HerderError::Forbidden(_) => 403,
            HerderError::NotFound(_) => 404,
            HerderError::Conflict(_) => 409,
            HerderError::Internal(_) => 500,
        }
    }
}
