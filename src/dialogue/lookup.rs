//! The scenario look-up, an effect: render the path, ask the back-end, render the
//! answer from the JSON. What a failure means for the turn is decided by
//! `decide::lookup_failed`.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

use super::UserInfo;
use super::templates::Templates;
use crate::backend::Backends;
use crate::knowledge::Scenario;

/// Everything but letters, digits, `-`, `_` and `~` is encoded, so a slot value or
/// user id cannot change the path: `/` and `?` stay inside one segment, and dots
/// are encoded too, so `..` never reaches a client or proxy that would resolve it.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, PATH_VALUE).to_string()
}

/// A value that is only dots (`.`, `..`) names no record, encoded or not: a back-end
/// that decodes before routing would read it as a path step.
fn dots_only(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == '.')
}

/// Look `scenario` up with the filled `slots` and render its answer; the error says
/// what failed (for the log, never for the customer).
pub(super) fn run(
    scenario: &Scenario,
    slots: &BTreeMap<String, String>,
    user: &UserInfo,
    templates: &Templates,
    backends: &Backends,
) -> Result<String, String> {
    if slots.values().map(String::as_str).chain(user.id.as_deref()).any(dots_only) {
        return Err("a slot value or the customer id is only dots; not looked up".into());
    }
    let escaped: BTreeMap<&str, String> = slots.iter().map(|(k, v)| (k.as_str(), encode(v))).collect();
    let path_ctx = json!({"slots": escaped, "user": {"id": user.id.as_deref().map(encode)}});
    let path = templates.lookup_path(&scenario.id, path_ctx).map_err(|e| format!("path template: {e}"))?;
    // The rendered path holds the customer's id and slot values: the error names
    // the path template instead, so logs never carry them.
    let data = backends
        .get(&scenario.lookup.backend, &path)
        .map_err(|e| e.to_string().replace(&path, &scenario.lookup.path))?;
    if !scenario.lookup.owner.is_empty() && !owned_by(&data, &scenario.lookup.owner, user.id.as_deref()) {
        return Err(format!("{}: the record's {} is not the customer", scenario.lookup.path, scenario.lookup.owner));
    }
    let answer_ctx = json!({
        "data": data,
        "slots": slots,
        "user": {"id": user.id, "tags": user.tags, "profile": user.profile},
        "profile": user.profile,
    });
    let text = templates.scenario_answer(&scenario.id, answer_ctx).map_err(|e| format!("answer template: {e}"))?;
    if text.trim().is_empty() {
        return Err("the answer template rendered empty".into());
    }
    Ok(text)
}

/// Whether the record's `field` (dotted path) names `customer`: a string or a
/// number equal to the id. A record without the field belongs to nobody.
fn owned_by(data: &serde_json::Value, field: &str, customer: Option<&str>) -> bool {
    let Some(customer) = customer else { return false };
    let value = field.split('.').try_fold(data, |v, key| v.get(key.trim()));
    match value {
        Some(serde_json::Value::String(s)) => s == customer,
        Some(serde_json::Value::Number(n)) => n.to_string() == customer,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{dots_only, encode, owned_by};

    #[test]
    fn a_record_is_owned_only_by_the_customer_it_names() {
        let data = serde_json::json!({"order": {"owner": "u1001"}, "n": 42});
        assert!(owned_by(&data, "order.owner", Some("u1001")));
        assert!(!owned_by(&data, "order.owner", Some("u2002")));
        assert!(!owned_by(&data, "order.owner", None));
        assert!(!owned_by(&data, "missing", Some("u1001")));
        assert!(owned_by(&data, "n", Some("42")));
    }

    #[test]
    fn path_values_cannot_escape() {
        assert_eq!(encode("123/../admin?x=1"), "123%2F%2E%2E%2Fadmin%3Fx%3D1");
        assert_eq!(encode(".."), "%2E%2E");
        assert_eq!(encode("u-1001"), "u-1001");
        assert_eq!(encode("订单"), "%E8%AE%A2%E5%8D%95");
        assert!(dots_only("..") && dots_only(".") && !dots_only("a.b") && !dots_only(""));
    }
}
