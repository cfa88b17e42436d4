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

/// Everything but RFC 3986's unreserved characters is encoded, so a slot value or
/// user id cannot change the path (`/`, `?`, `..` stay inside one segment).
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, PATH_VALUE).to_string()
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
    let escaped: BTreeMap<&str, String> = slots.iter().map(|(k, v)| (k.as_str(), encode(v))).collect();
    let path_ctx = json!({"slots": escaped, "user": {"id": user.id.as_deref().map(encode)}});
    let path = templates.lookup_path(&scenario.id, path_ctx).map_err(|e| format!("path template: {e}"))?;
    // The rendered path holds the customer's id and slot values: the error names
    // the path template instead, so logs never carry them.
    let data = backends
        .get(&scenario.lookup.backend, &path)
        .map_err(|e| e.to_string().replace(&path, &scenario.lookup.path))?;
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

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn path_values_cannot_escape() {
        assert_eq!(encode("123/../admin?x=1"), "123%2F..%2Fadmin%3Fx%3D1");
        assert_eq!(encode("u-1001"), "u-1001");
        assert_eq!(encode("订单"), "%E8%AE%A2%E5%8D%95");
    }
}
