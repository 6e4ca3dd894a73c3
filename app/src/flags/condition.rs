//! Attribute conditions of a targeting rule: `country in ["NL", "DE"]`, `plan == "pro"`,
//! `seats >= 10`. A condition is written either as that text or as
//! `{"attribute", "op", "value" | "values"}`; it is stored and served in the second form.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "==")]
    Equals,
    #[serde(rename = "!=")]
    NotEquals,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "not_in")]
    NotIn,
    #[serde(rename = "starts_with")]
    StartsWith,
    #[serde(rename = "ends_with")]
    EndsWith,
    #[serde(rename = "contains")]
    Contains,
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = ">=")]
    GreaterOrEqual,
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    LessOrEqual,
}

impl Op {
    /// The operator as people write it, with the common spellings of other flag services.
    pub fn parse(text: &str) -> Option<Op> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "==" | "=" | "eq" | "equals" | "is" => Op::Equals,
            "!=" | "ne" | "neq" | "not_equals" | "is_not" => Op::NotEquals,
            "in" | "one_of" => Op::In,
            "not_in" | "not in" | "notin" | "not_one_of" => Op::NotIn,
            "starts_with" | "startswith" => Op::StartsWith,
            "ends_with" | "endswith" => Op::EndsWith,
            "contains" => Op::Contains,
            ">" | "gt" => Op::Greater,
            ">=" | "gte" | "ge" => Op::GreaterOrEqual,
            "<" | "lt" => Op::Less,
            "<=" | "lte" | "le" => Op::LessOrEqual,
            _ => return None,
        })
    }

    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

/// One condition on a context attribute. `values` holds one value for the single-value
/// operators and the list for `in` / `not_in`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub attribute: String,
    pub op: Op,
    pub values: Vec<Value>,
}

/// The object form as clients send it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionObject {
    attribute: String,
    #[serde(alias = "operator")]
    op: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    values: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ConditionInput {
    Text(String),
    Object(ConditionObject),
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parsed = match ConditionInput::deserialize(deserializer)? {
            ConditionInput::Text(text) => Condition::parse(&text),
            ConditionInput::Object(o) => {
                Condition::from_parts(o.attribute, &o.op, o.value, o.values)
            }
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Condition {
    fn from_parts(
        attribute: String,
        op: &str,
        value: Option<Value>,
        values: Option<Vec<Value>>,
    ) -> Result<Condition, String> {
        let attribute = attribute.trim().to_string();
        if attribute.is_empty() {
            return Err("a condition needs the attribute it tests".into());
        }
        let op = Op::parse(op).ok_or_else(|| {
            format!("'{op}' is not an operator; use ==, !=, in, not_in, starts_with, ends_with, contains, >, >=, <, <=")
        })?;
        let values = match (value, values) {
            (Some(Value::Array(list)), None) | (None, Some(list)) => list,
            (Some(one), None) => vec![one],
            (None, None) => return Err(format!("the condition on '{attribute}' needs a value")),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "the condition on '{attribute}' has both value and values; give one"
                ))
            }
        };
        if values.is_empty() || (!op.takes_list() && values.len() != 1) {
            return Err(format!(
                "the condition on '{attribute}' needs {}",
                if op.takes_list() {
                    "at least one value"
                } else {
                    "exactly one value"
                }
            ));
        }
        Ok(Condition {
            attribute,
            op,
            values,
        })
    }

    /// Parses `attribute op value`, where the value is JSON (`"pro"`, `10`, `["NL", "DE"]`); a
    /// bare word is taken as a string.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        let (attribute, rest) = text
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("'{text}' is not a condition; write it as: plan == \"pro\""))?;
        let rest = rest.trim_start();
        let (op, value) = if let Some(after) = rest.strip_prefix("not in") {
            ("not_in", after)
        } else {
            rest.split_once(char::is_whitespace).ok_or_else(|| {
                format!("'{text}' is not a condition; write it as: plan == \"pro\"")
            })?
        };
        let value = value.trim();
        let value =
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
        Condition::from_parts(attribute.to_string(), op, Some(value), None)
    }

    /// Whether the context's attribute satisfies this condition. A missing attribute satisfies
    /// only `!=` and `not_in`.
    pub fn holds(&self, attribute: Option<&Value>) -> bool {
        let Some(actual) = attribute else {
            return matches!(self.op, Op::NotEquals | Op::NotIn);
        };
        // A list attribute (`groups: [..]`) satisfies `in` / `==` when any member does.
        if let Value::Array(items) = actual {
            return match self.op {
                Op::NotEquals | Op::NotIn => items.iter().all(|i| self.holds(Some(i))),
                _ => items.iter().any(|i| self.holds(Some(i))),
            };
        }
        let first = &self.values[0];
        match self.op {
            Op::Equals => same(actual, first),
            Op::NotEquals => !same(actual, first),
            Op::In => self.values.iter().any(|v| same(actual, v)),
            Op::NotIn => !self.values.iter().any(|v| same(actual, v)),
            Op::StartsWith => text_test(actual, first, |a, b| a.starts_with(b)),
            Op::EndsWith => text_test(actual, first, |a, b| a.ends_with(b)),
            Op::Contains => text_test(actual, first, |a, b| a.contains(b)),
            Op::Greater => compare(actual, first).is_some_and(|o| o.is_gt()),
            Op::GreaterOrEqual => compare(actual, first).is_some_and(|o| o.is_ge()),
            Op::Less => compare(actual, first).is_some_and(|o| o.is_lt()),
            Op::LessOrEqual => compare(actual, first).is_some_and(|o| o.is_le()),
        }
    }
}

/// Equal as values, with numbers compared by value (`1` and `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn text_test(a: &Value, b: &Value, test: fn(&str, &str) -> bool) -> bool {
    matches!((a.as_str(), b.as_str()), (Some(a), Some(b)) if test(a, b))
}

/// Numbers by value; strings (dates, versions of equal shape) by text.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(value: Value) -> Condition {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn text_and_object_forms_mean_the_same() {
        assert_eq!(
            cond(json!("country in [\"NL\", \"DE\"]")),
            cond(json!({"attribute": "country", "op": "in", "values": ["NL", "DE"]}))
        );
        assert_eq!(
            cond(json!("plan == \"pro\"")),
            cond(json!({"attribute": "plan", "operator": "eq", "value": "pro"}))
        );
        assert_eq!(cond(json!("plan == pro")), cond(json!("plan == \"pro\"")));
        assert_eq!(cond(json!("country not in [\"US\"]")).op, Op::NotIn);
    }

    #[test]
    fn conditions_test_the_attribute() {
        let country = cond(json!("country in [\"NL\", \"DE\"]"));
        assert!(country.holds(Some(&json!("NL"))));
        assert!(!country.holds(Some(&json!("US"))));
        assert!(!country.holds(None));
        let seats = cond(json!("seats >= 10"));
        assert!(seats.holds(Some(&json!(10))));
        assert!(seats.holds(Some(&json!(12.5))));
        assert!(!seats.holds(Some(&json!(9))));
        assert!(!seats.holds(Some(&json!("lots"))));
        let not_us = cond(json!({"attribute": "country", "op": "!=", "value": "US"}));
        assert!(not_us.holds(None));
        let groups = cond(json!("groups in [\"beta\"]"));
        assert!(groups.holds(Some(&json!(["staff", "beta"]))));
        assert!(!groups.holds(Some(&json!(["staff"]))));
        let email = cond(json!({"attribute": "email", "op": "ends_with", "value": "@example.com"}));
        assert!(email.holds(Some(&json!("ann@example.com"))));
    }

    #[test]
    fn malformed_conditions_are_refused() {
        for bad in [
            json!("plan"),
            json!("plan ~= pro"),
            json!({"attribute": "plan", "op": "=="}),
            json!({"attribute": "plan", "op": "==", "values": ["a", "b"]}),
            json!({"attribute": "", "op": "==", "value": 1}),
            json!({"attribute": "plan", "op": "==", "value": 1, "extra": true}),
        ] {
            assert!(
                serde_json::from_value::<Condition>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
