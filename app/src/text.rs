//! Text as people type it into forms and API bodies, and counted nouns as pages write them.

/// `value` without surrounding blanks, or `None` when nothing is left: an empty form field or
/// a reason of spaces means "not given", never a value of "".
pub fn non_blank<S: AsRef<str>>(value: Option<S>) -> Option<String> {
    let value = value?;
    let trimmed = value.as_ref().trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// `n` and the noun in the number it takes: "1 alert", "3 alerts".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_not_given() {
        assert_eq!(non_blank(Some("  v1.2.3 \n")), Some("v1.2.3".to_string()));
        assert_eq!(non_blank(Some(" \t ")), None);
        assert_eq!(non_blank(Some(String::new())), None);
        assert_eq!(non_blank(None::<String>), None);
    }

    #[test]
    fn a_count_takes_its_number() {
        assert_eq!(count(1, "alert needs", "alerts need"), "1 alert needs");
        assert_eq!(count(0, "check", "checks"), "0 checks");
        assert_eq!(count(12, "check", "checks"), "12 checks");
    }
}
