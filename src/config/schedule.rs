//! A cron schedule, parsed once where the configuration is validated and used as it is by
//! the scheduler and by readiness.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// A cron expression with a seconds field first, evaluated in UTC, that fires again and again.
#[derive(Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
    /// The gap between the first two fires after it was parsed.
    interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("{expr:?} is not a cron expression with a seconds field (e.g. \"0 */5 * * * *\")")]
    Syntax {
        expr: String,
        #[source]
        source: croner::errors::CronError,
    },
    #[error("{expr:?} has fewer than two runs left; a schedule must keep running")]
    Ends { expr: String },
}

impl Schedule {
    /// Parses `expr` and checks that it still fires (twice) after now.
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        Schedule::parse_at(expr, Utc::now())
    }

    /// [`Schedule::parse`] as of `now`.
    pub fn parse_at(expr: &str, now: DateTime<Utc>) -> Result<Schedule, ScheduleError> {
        // The parser settings tokio-cron-scheduler uses (seconds required, croner's defaults
        // otherwise), so what is accepted here is exactly what the scheduler fires; croner's
        // own error says what is wrong.
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(expr)
            .map_err(|source| ScheduleError::Syntax {
                expr: expr.to_owned(),
                source,
            })?;
        let mut fires = cron.iter_after(now);
        let interval = match (fires.next(), fires.next()) {
            (Some(a), Some(b)) => (b - a).to_std().unwrap_or_default(),
            _ => {
                return Err(ScheduleError::Ends {
                    expr: expr.to_owned(),
                });
            }
        };
        Ok(Schedule {
            expr: expr.to_owned(),
            cron,
            interval,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The first fire strictly after `t`; `None` once the schedule has no more fires (only
    /// an expression with a year field can run out).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The gap between the two fires that followed the moment the schedule was parsed: for
    /// `0 */5 * * * *`, five minutes.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.expr)
    }
}

/// Two schedules are the same when their expressions are: they fire at the same moments.
impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl serde::Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_chain::chain;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    // 2023-11-14T22:13:20Z
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn the_interval_of_a_five_minute_schedule_is_five_minutes() {
        let s = Schedule::parse_at("0 */5 * * * *", at(NOW)).unwrap();
        assert_eq!(s.interval(), Duration::from_secs(300));
        let s = Schedule::parse_at("*/20 * * * * *", at(NOW)).unwrap();
        assert_eq!(s.interval(), Duration::from_secs(20));
        let s = Schedule::parse_at("0 30 3 * * *", at(NOW)).unwrap();
        assert_eq!(s.interval(), Duration::from_secs(24 * 3600));
    }

    #[test]
    fn next_fire_is_strictly_after_the_given_time() {
        let s = Schedule::parse_at("0 */5 * * * *", at(NOW)).unwrap();
        // 22:13:20 → 22:15:00
        assert_eq!(s.next_after(at(NOW)), Some(at(NOW + 100)));
        // Exactly on a fire: the next one, not the same one.
        assert_eq!(s.next_after(at(NOW + 100)), Some(at(NOW + 400)));
        assert_eq!(s.as_str(), "0 */5 * * * *");
        assert_eq!(s.to_string(), "0 */5 * * * *");
    }

    #[test]
    fn five_fields_are_refused_with_croner_s_reason() {
        let e = Schedule::parse_at("*/5 * * * *", at(NOW)).unwrap_err();
        assert!(matches!(e, ScheduleError::Syntax { .. }), "{e}");
        let text = chain(&e).to_string();
        assert!(text.contains("seconds field"), "{text}");
        // croner's reason follows, once.
        assert!(text.matches(": ").count() >= 1, "{text}");
        assert!(Schedule::parse_at("nightly", at(NOW)).is_err());
    }

    #[test]
    fn a_schedule_that_no_longer_fires_is_refused() {
        // A year field in the past.
        let e = Schedule::parse_at("0 0 0 1 1 * 2020", at(NOW)).unwrap_err();
        assert!(matches!(e, ScheduleError::Ends { .. }), "{e}");
    }
}
