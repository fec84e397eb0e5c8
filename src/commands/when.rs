//! Times for people: "5 min ago", "in 3 h".

/// How long `ms` milliseconds is, in the largest unit that keeps it readable.
fn span(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        ..60 => format!("{s} s"),
        60..5_400 => format!("{} min", (s + 30) / 60),
        5_400..172_800 => format!("{} h", (s + 1_800) / 3_600),
        _ => format!("{} days", (s + 43_200) / 86_400),
    }
}

/// `t` seen from `now`: "5 min ago", "in 3 h", "just now".
pub(super) fn relative(now: i64, t: i64) -> String {
    let d = now - t;
    if d.abs() < 1_000 {
        "just now".to_owned()
    } else if d > 0 {
        format!("{} ago", span(d))
    } else {
        format!("in {}", span(-d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_like_a_person_says_them() {
        let now = 10_000_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now, now - 42_000), "42 s ago");
        assert_eq!(relative(now, now - 5 * 60_000), "5 min ago");
        assert_eq!(relative(now, now - 89 * 60_000), "89 min ago");
        assert_eq!(relative(now, now - 3 * 3_600_000), "3 h ago");
        assert_eq!(relative(now, now - 3 * 86_400_000), "3 days ago");
        assert_eq!(relative(now, now + 4 * 60_000), "in 4 min");
    }
}
