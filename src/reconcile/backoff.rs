//! Per-opportunity backoff after failed actions: exponential, capped, reset on success.

/// First wait after a failure.
const BASE_MS: i64 = 60_000;
/// Longest wait (the nightly full pass looks again regardless).
const CAP_MS: i64 = 6 * 60 * 60 * 1000;

/// When to look at an opportunity again after its `failures`-th consecutive failure.
pub fn next_check_at(now: i64, failures: u32) -> i64 {
    let exp = failures.saturating_sub(1).min(20);
    now.saturating_add(BASE_MS.saturating_mul(1_i64 << exp).min(CAP_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_per_failure_up_to_the_cap() {
        assert_eq!(next_check_at(0, 1), 60_000);
        assert_eq!(next_check_at(0, 2), 120_000);
        assert_eq!(next_check_at(0, 3), 240_000);
        assert_eq!(next_check_at(0, 40), CAP_MS);
    }
}
