//! Parsing of the field values shared by the CSV and Markdown formats:
//! multi-valued cells, actions, the handoff flag.

use super::Action;

/// Split a multi-valued cell on `|`, trimming and dropping empty parts.
pub(crate) fn split_multi(value: &str) -> Vec<String> {
    value.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Parse `label=>url|label=>url`. Each malformed part yields an error message.
pub(crate) fn parse_actions(value: &str) -> (Vec<Action>, Vec<String>) {
    let mut actions = Vec::new();
    let mut errors = Vec::new();
    for part in split_multi(value) {
        match part.split_once("=>") {
            Some((label, url)) => {
                let (label, url) = (label.trim(), url.trim());
                if label.is_empty() {
                    errors.push(format!("action {part:?} has no label (expected label=>url)"));
                } else if url.is_empty() {
                    errors.push(format!("action {part:?} has no url (expected label=>url)"));
                } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    errors.push(format!("action {part:?}: the url contains whitespace"));
                } else if !safe_url(url) {
                    errors.push(format!(
                        "action {part:?}: the url must start with https://, http://, tel:, mailto: or / (a page of the site)"
                    ));
                } else {
                    actions.push(Action { label: label.to_owned(), url: url.to_owned() });
                }
            }
            None => errors.push(format!("action {part:?} is not of the form label=>url")),
        }
    }
    (actions, errors)
}

/// Whether an action's link is one every channel may show as a button: a web page,
/// a phone number, a mail address, or a page of the same site. `javascript:`,
/// `data:` and the like would run in the customer's browser.
fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let web = ["https://", "http://"].iter().any(|p| lower.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    let other = ["tel:", "mailto:"].iter().any(|p| lower.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    let relative = url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\");
    web || other || relative
}

/// Parse the handoff flag: empty, `false`/`no`/`0`/`否` or `true`/`yes`/`1`/`是`.
pub(crate) fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "" | "false" | "no" | "0" | "否" => Ok(false),
        "true" | "yes" | "1" | "是" => Ok(true),
        other => Err(format!("{other:?} is not a yes/no value (use true or false)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_urls_are_web_phone_mail_or_site_pages() {
        for ok in ["https://a.example/x", "http://a.example", "tel:10086", "mailto:kf@a.example", "/orders"] {
            assert!(safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "//evil.example",
            "https://",
            "ftp://x",
            "orders",
        ] {
            assert!(!safe_url(bad), "{bad}");
        }
        let (actions, errors) = parse_actions("好=>https://a.example|坏=>javascript:alert(1)");
        assert_eq!((actions.len(), errors.len()), (1, 1), "{errors:?}");
    }

    #[test]
    fn multi_values_are_trimmed() {
        assert_eq!(split_multi(" a | b ||c "), vec!["a", "b", "c"]);
        assert!(split_multi("").is_empty());
    }

    #[test]
    fn actions_parse_and_report_each_bad_part() {
        let (ok, errors) = parse_actions("查看订单=>https://shop.example.com/orders|坏的|=>/x|空=>");
        assert_eq!(ok, vec![Action { label: "查看订单".into(), url: "https://shop.example.com/orders".into() }]);
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn flags() {
        assert_eq!(parse_flag("是"), Ok(true));
        assert_eq!(parse_flag(" FALSE "), Ok(false));
        assert!(parse_flag("maybe").is_err());
    }
}
