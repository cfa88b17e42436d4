//! Scenarios: business flows answered from a back-end lookup, defined in TOML files
//! in the knowledge folder.
//!
//! ```toml
//! [[scenario]]
//! id = "order-status"
//! category = "网上商城订单"                  # hand-off queue
//! title = "查询我的订单状态"                # offered in clarifications (default: first example)
//! examples = ["我的订单到哪了", "查一下订单物流"]
//! requires_user = false                    # true: needs the request's user.id
//! actions = ["查看订单列表=>https://example.com/orders"]
//!
//! [[scenario.slots]]                       # details to ask for before the lookup
//! name = "order_id"
//! pattern = "\\d{12}"                      # regex; the first match fills the slot
//! prompt = "请提供您的 12 位订单号。"
//!
//! [scenario.lookup]
//! backend = "shop"                         # a [backends.NAME] of bizbot.toml
//! path = "/orders/{{ slots.order_id }}"    # minijinja over slots and user
//! owner = "customer_id"                    # the answer's field naming its customer:
//!                                          # served only to that customer (needs requires_user)
//!
//! [scenario.answer]
//! template = "订单 {{ slots.order_id }}：{{ data.status }}"   # over data (the JSON), slots, user
//!
//! [scenario.on_failure]
//! message = "暂时查不到订单，正在为您转人工。"
//! handoff = true                           # false: reply with the message only
//! ```

use std::path::Path;

use serde::Deserialize;

use super::fields::parse_actions;
use super::{Action, Problem};

/// A detail asked for before a lookup.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Name, used in templates as `slots.NAME`.
    pub name: String,
    /// Regular expression; its first match in the customer's text fills the slot.
    pub pattern: String,
    /// The question asking for it.
    pub prompt: String,
}

/// Where to look up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    /// A back-end name from `[backends]` in the config.
    pub backend: String,
    /// Path template (minijinja over `slots` and `user`), appended to the base URL.
    pub path: String,
    /// A field of the answer (dotted, e.g. `customer_id` or `order.owner`) naming
    /// the customer the record belongs to. When set, a record is shown only to
    /// that customer (the scenario then needs `requires_user = true`): an order
    /// number typed by somebody else finds nothing. Empty: not checked.
    #[serde(default)]
    pub owner: String,
}

/// How the answer is written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerTemplate {
    /// minijinja template over `data` (the lookup's JSON), `slots`, `user`.
    pub template: String,
}

/// What happens when the lookup fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnFailure {
    /// What the customer sees.
    pub message: String,
    /// Hand off to a person.
    #[serde(default = "default_true")]
    pub handoff: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    examples: Vec<String>,
    #[serde(default)]
    requires_user: bool,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    slots: Vec<Slot>,
    lookup: Lookup,
    answer: AnswerTemplate,
    on_failure: OnFailure,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    scenario: Vec<RawScenario>,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Unique id (also the intent name).
    pub id: super::ScenarioId,
    /// Category, the hand-off queue.
    pub category: String,
    /// What a clarification offers it as ("查询我的订单状态"); the first example
    /// when not given.
    pub title: String,
    /// Example utterances: they train the intent predictor.
    pub examples: Vec<String>,
    /// Needs the request's `user.id`.
    pub requires_user: bool,
    /// Self-service actions shown with the answer.
    pub actions: Vec<Action>,
    /// Details asked for before the lookup, in order.
    pub slots: Vec<Slot>,
    /// The lookup.
    pub lookup: Lookup,
    /// The answer template.
    pub answer: AnswerTemplate,
    /// Failure behaviour.
    pub on_failure: OnFailure,
    /// Where it was defined.
    pub source: super::SourceLocation,
}

/// Parse a scenario file; every problem is pushed.
pub(super) fn parse(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<Scenario> {
    let file: ScenarioFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map_or(0, |s| 1 + text[..s.start.min(text.len())].matches('\n').count());
            problems.push(Problem::new(path, line, "scenario", e.message().to_owned()));
            return Vec::new();
        }
    };
    let lines = id_lines(text);
    let category = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    file.scenario
        .into_iter()
        .map(|raw| {
            let line = lines.iter().find(|(id, _)| *id == raw.id).map_or(0, |(_, l)| *l);
            let mut p = |field: &str, message: String| problems.push(Problem::new(path, line, field, message));
            if raw.id.trim().is_empty() {
                p("id", "empty scenario id".into());
            }
            if raw.examples.iter().all(|e| e.trim().is_empty()) {
                p("examples", format!("scenario {:?} needs at least one example utterance", raw.id));
            }
            for slot in &raw.slots {
                if let Err(e) = regex::Regex::new(&slot.pattern) {
                    p("slots", format!("slot {:?}: invalid pattern: {e}", slot.name));
                }
                if slot.prompt.trim().is_empty() {
                    p("slots", format!("slot {:?} has an empty prompt", slot.name));
                }
            }
            let env = minijinja::Environment::new();
            for (field, template) in [("lookup.path", &raw.lookup.path), ("answer.template", &raw.answer.template)] {
                if let Err(e) = env.template_from_str(template) {
                    p(field, format!("template error: {e}"));
                }
            }
            if !raw.lookup.owner.trim().is_empty() && !raw.requires_user {
                p("lookup.owner", "checking the record's owner needs requires_user = true".into());
            }
            if !raw.lookup.path.starts_with('/') {
                p("lookup.path", "must start with /".into());
            }
            if raw.on_failure.message.trim().is_empty() {
                p("on_failure.message", "empty message".into());
            }
            let (actions, errors) = parse_actions(&raw.actions.join("|"));
            for e in errors {
                p("actions", e);
            }
            Scenario {
                category: if raw.category.is_empty() { category.clone() } else { raw.category },
                id: raw.id.into(),
                title: match raw.title.trim() {
                    "" => raw.examples.iter().find(|e| !e.trim().is_empty()).cloned().unwrap_or_default(),
                    title => title.to_owned(),
                },
                examples: raw.examples,
                requires_user: raw.requires_user,
                actions,
                slots: raw.slots,
                lookup: raw.lookup,
                answer: raw.answer,
                on_failure: raw.on_failure,
                source: super::SourceLocation { file: path.to_path_buf(), line },
            }
        })
        .collect()
}

/// `(id, line)` of each `id = "…"` line, to locate scenario problems.
fn id_lines(text: &str) -> Vec<(String, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let rest = l.trim().strip_prefix("id")?.trim_start().strip_prefix('=')?;
            Some((rest.trim().trim_matches('"').to_owned(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[scenario]]
id = "order-status"
examples = ["我的订单到哪了"]
actions = ["查看订单=>https://example.com/orders"]
[[scenario.slots]]
name = "order_id"
pattern = "\\d{12}"
prompt = "请提供订单号"
[scenario.lookup]
backend = "shop"
path = "/orders/{{ slots.order_id }}"
[scenario.answer]
template = "状态：{{ data.status }}"
[scenario.on_failure]
message = "查不到"
"#;

    #[test]
    fn a_scenario_parses() {
        let mut problems = Vec::new();
        let s = parse(Path::new("s.toml"), GOOD, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s[0].id, "order-status");
        assert_eq!(s[0].source.line, 3);
        assert!(s[0].on_failure.handoff);
        assert_eq!(s[0].actions[0].label, "查看订单");
        assert_eq!(s[0].title, "我的订单到哪了", "the first example when no title is given");
        let titled = GOOD.replace("examples =", "title = \"查询订单状态\"\nexamples =");
        assert_eq!(parse(Path::new("s.toml"), &titled, &mut problems)[0].title, "查询订单状态");
    }

    #[test]
    fn problems_are_located() {
        let mut problems = Vec::new();
        let bad = GOOD.replace("\\\\d{12}", "(").replace("{{ data.status }}", "{{ data.status ");
        parse(Path::new("s.toml"), &bad, &mut problems);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["slots", "answer.template"], "{problems:?}");
        let mut problems = Vec::new();
        parse(Path::new("s.toml"), "[[scenario]]\nid = \"x\"\ncolour = 1\n", &mut problems);
        assert_eq!(problems[0].line, 3, "{problems:?}");
    }
}
