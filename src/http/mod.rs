//! The shared HTTP layer under both API clients.
//!
//! One [`Transport`] per tenant and API: every attempt waits on the token bucket
//! ([`limiter`]), is timed and reported to the [`observer`], and is classified into an
//! [`ApiError`] kind; retries go through [`retry`] (the only user of the `backoff` crate).
//! Nothing here knows Lever's or Willo's endpoints or wire formats: the clients pass in route
//! templates, bodies and a function that reads their error bodies.

pub mod config;
mod connections;
pub mod decode;
pub mod error;
pub mod limiter;
pub mod observer;
pub mod retry;
pub mod retry_after;
pub mod transport;

pub use config::{HttpConfig, RequestsPerSecond};
pub use error::{ApiError, BuildError, Grant};
pub use limiter::urgent;
pub use observer::{
    Api, ApiObserver, Attempt, CountingObserver, FanOut, NoopObserver, StatusClass,
};
pub use retry::RetryPolicy;
pub use transport::Transport;
