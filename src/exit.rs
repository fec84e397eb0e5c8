//! Exit statuses (rule: exit statuses, docs/behaviour.md; sysexits). Defined once here; `main` maps errors onto them.

use std::cmp::Ordering;
use std::process::ExitCode;

/// Ordered by [`ExitStatus::severity`], so `max` is the most severe outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every tenant converged.
    Converged,
    /// The pass finished but some actions failed (they are retried on the next pass).
    ActionsFailed,
    /// EX_USAGE: bad command line, or a command that is not available.
    Usage,
    /// EX_UNAVAILABLE: an API could not be reached.
    Unavailable,
    /// EX_TEMPFAIL: SIGTERM or SIGINT stopped the run before its passes finished; the next
    /// run picks up where it stopped.
    Interrupted,
    /// EX_IOERR: the state store could not be opened, locked, migrated or written.
    StateStore,
    /// EX_NOPERM: credentials were rejected (tenant disconnected).
    Credentials,
    /// EX_CONFIG: the configuration is invalid.
    Config,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Converged => 0,
            ExitStatus::ActionsFailed => 1,
            ExitStatus::Usage => 64,
            ExitStatus::Unavailable => 69,
            ExitStatus::Interrupted => 75,
            ExitStatus::StateStore => 74,
            ExitStatus::Credentials => 77,
            ExitStatus::Config => 78,
        }
    }

    /// When several tenants end differently, the process reports the most severe outcome.
    /// Severity is not numeric order: a config error outranks a rejected credential, which
    /// outranks an unreachable API, which outranks an interrupted run, which outranks failed
    /// actions. An interruption says only that the run stopped early; what a tenant found
    /// before that (an API down, a credential refused) is worth more to the operator.
    pub fn severity(self) -> u8 {
        match self {
            ExitStatus::Converged => 0,
            ExitStatus::ActionsFailed => 1,
            ExitStatus::Interrupted => 2,
            ExitStatus::Unavailable => 3,
            ExitStatus::Credentials => 4,
            ExitStatus::StateStore => 5,
            ExitStatus::Usage => 6,
            ExitStatus::Config => 7,
        }
    }

    pub fn worst(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }
}

impl Ord for ExitStatus {
    fn cmp(&self, other: &Self) -> Ordering {
        self.severity().cmp(&other.severity())
    }
}

impl PartialOrd for ExitStatus {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ExitStatus; 8] = [
        ExitStatus::Converged,
        ExitStatus::ActionsFailed,
        ExitStatus::Usage,
        ExitStatus::Unavailable,
        ExitStatus::Interrupted,
        ExitStatus::StateStore,
        ExitStatus::Credentials,
        ExitStatus::Config,
    ];

    #[test]
    fn codes_are_the_spec_sysexits() {
        let codes: Vec<u8> = ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 1, 64, 69, 75, 74, 77, 78]);
    }

    #[test]
    fn worst_prefers_the_more_severe_outcome() {
        assert_eq!(
            ExitStatus::ActionsFailed.worst(ExitStatus::Credentials),
            ExitStatus::Credentials
        );
        assert_eq!(
            ExitStatus::Unavailable.worst(ExitStatus::ActionsFailed),
            ExitStatus::Unavailable
        );
        assert_eq!(
            ExitStatus::Converged.worst(ExitStatus::Converged),
            ExitStatus::Converged
        );
    }

    #[test]
    fn ordering_is_severity_order() {
        let mut sorted = ALL;
        sorted.sort();
        assert_eq!(
            sorted,
            [
                ExitStatus::Converged,
                ExitStatus::ActionsFailed,
                ExitStatus::Interrupted,
                ExitStatus::Unavailable,
                ExitStatus::Credentials,
                ExitStatus::StateStore,
                ExitStatus::Usage,
                ExitStatus::Config,
            ]
        );
        for a in ALL {
            for b in ALL {
                assert_eq!(a.cmp(&b), a.severity().cmp(&b.severity()), "{a:?} vs {b:?}");
                assert_eq!(
                    a.worst(b).severity(),
                    a.severity().max(b.severity()),
                    "{a:?} vs {b:?}"
                );
                assert_eq!(a.worst(b), b.worst(a), "{a:?} vs {b:?}");
            }
        }
        // In declaration order (what a derived `Ord` uses) Usage comes before Unavailable.
        assert!(ExitStatus::Usage > ExitStatus::Unavailable);
    }
}
