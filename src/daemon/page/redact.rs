//! Keeps e-mail addresses off the status page: free text that came from Lever or Willo (an
//! error message, a refused invite's reason) can quote the address it was about.

/// What an address is replaced with.
pub const HIDDEN: &str = "[address hidden]";

fn local_part(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'".contains(c)
}

fn domain_part(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

/// `s` with every `local@domain.tld` replaced by [`HIDDEN`].
pub fn redact(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    // Start of the text not yet copied to `out`.
    let mut copied = 0;
    while i < chars.len() {
        if chars[i] != '@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > copied && local_part(chars[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && domain_part(chars[end]) {
            end += 1;
        }
        // A trailing dot ends the sentence, not the domain.
        while end > i + 1 && chars[end - 1] == '.' {
            end -= 1;
        }
        let domain: String = chars[i + 1..end].iter().collect();
        if start < i && domain.contains('.') && !domain.starts_with('.') {
            out.extend(&chars[copied..start]);
            out.push_str(HIDDEN);
            copied = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.extend(&chars[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_hidden_wherever_they_stand() {
        assert_eq!(
            redact(
                "Willo POST /participants/: 400: {\"email\": [\"ann.o'neil+jobs@example.co.uk is taken\"]}"
            ),
            format!("Willo POST /participants/: 400: {{\"email\": [\"{HIDDEN} is taken\"]}}")
        );
        assert_eq!(
            redact("invite to <bob@example.com>, then carl@mail.example.org."),
            format!("invite to <{HIDDEN}>, then {HIDDEN}.")
        );
        assert_eq!(redact("josé@exämple.de"), HIDDEN);
    }

    #[test]
    fn text_without_addresses_is_kept() {
        for s in [
            "",
            "no address here",
            "@handle and trailing@",
            "user@localhost",
            "Lever GET /postings: permission denied (HTTP 403): grant \"Postings: read\"",
            "Ann <b>O'Neil</b> & co",
        ] {
            assert_eq!(redact(s), s);
        }
    }
}
