//! The one rule for free text a person types: trimmed, not empty, at most so many
//! characters (not bytes), and no control characters — except newlines and tabs where
//! the field is multi-line (an agent's prompt).

use crate::error::Error;

#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    pub max_chars: usize,
    pub multiline: bool,
    /// The error code a violation gets.
    pub code: &'static str,
}

impl TextRule {
    pub const fn line(max_chars: usize) -> TextRule {
        TextRule {
            max_chars,
            multiline: false,
            code: "invalid_input",
        }
    }

    pub const fn lines(max_chars: usize) -> TextRule {
        TextRule {
            max_chars,
            multiline: true,
            code: "invalid_input",
        }
    }

    /// The value, trimmed, or an error naming `field`.
    pub fn check(&self, field: &str, value: &str) -> Result<String, Error> {
        let value = value.trim();
        let invalid = |message: String| Err(Error::bad_request(self.code, message));
        if value.is_empty() {
            return invalid(format!("{field} must not be empty"));
        }
        if value.chars().count() > self.max_chars {
            return invalid(format!(
                "{field} must be at most {} characters",
                self.max_chars
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !(self.multiline && matches!(c, '\n' | '\t')))
        {
            return invalid(format!(
                "{field} must not contain control characters (such as newlines or tabs)"
            ));
        }
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        let line = TextRule::line(10);
        assert_eq!(line.check("name", "  Acme  ").unwrap(), "Acme");
        assert!(line.check("name", "   ").is_err());
        assert!(line.check("name", "12345678901").is_err());
        assert!(line.check("name", &"é".repeat(10)).is_ok());
        assert!(line.check("name", "a\nb").is_err());
        let lines = TextRule::lines(10);
        assert_eq!(lines.check("prompt", "a\nb").unwrap(), "a\nb");
        assert!(lines.check("prompt", "a\u{7}b").is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn accepted_text_keeps_the_rule(value in "\\PC{0,120}|[\\x00-\\x1f ]{0,5}", multiline in any::<bool>()) {
                let rule = TextRule { max_chars: 100, multiline, code: "invalid_input" };
                if let Ok(text) = rule.check("field", &value) {
                    prop_assert_eq!(text.trim(), text.as_str());
                    prop_assert!(!text.is_empty() && text.chars().count() <= 100);
                    prop_assert!(text.chars().all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\t'))));
                }
            }
        }
    }
}
