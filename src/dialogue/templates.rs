//! Templates compiled once per knowledge load: FAQ answers with `{{placeholders}}`
//! and each scenario's look-up path and answer. A turn renders; it never parses.

use minijinja::Environment;
use serde::Serialize;

use crate::knowledge::{Customer, FaqEntry, KnowledgeBase};

/// The compiled templates of one knowledge base.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

fn faq_name(id: &str, variant: Option<usize>) -> String {
    match variant {
        Some(k) => format!("faq/{id}#{k}"),
        None => format!("faq/{id}"),
    }
}

fn path_name(scenario: &str) -> String {
    format!("path/{scenario}")
}

fn answer_name(scenario: &str) -> String {
    format!("answer/{scenario}")
}

/// Writes a placeholder's value with `<` and `>` as their full-width forms: a
/// profile field, slot or back-end value cannot put markup into an answer, and
/// the text still reads right in every channel (web, SMS, WeChat).
pub(crate) fn neutral_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.is_undefined() || value.is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    if !text.contains(['<', '>']) {
        return minijinja::escape_formatter(out, state, value);
    }
    let neutral = text.replace('<', "＜").replace('>', "＞");
    out.write_str(&neutral).map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

impl Templates {
    /// Compile every template of `kb`. An FAQ answer that does not compile is shown
    /// as written (a broken placeholder must not lose the answer); scenario templates
    /// were checked when the knowledge was validated.
    pub fn compile(kb: &KnowledgeBase) -> Self {
        let mut env = Environment::new();
        env.set_formatter(neutral_formatter);
        for f in &kb.faqs {
            let variants = f.variants.iter().enumerate().map(|(k, v)| (Some(k), &v.answer));
            for (k, answer) in std::iter::once((None, &f.answer)).chain(variants) {
                if !(answer.contains("{{") || answer.contains("{%")) {
                    continue;
                }
                if let Err(e) = env.add_template_owned(faq_name(&f.id, k), answer.clone()) {
                    tracing::warn!(entry = %f.id, "answer template does not compile, shown as written: {e}");
                }
            }
        }
        for s in &kb.scenarios {
            for (name, source) in [(path_name(&s.id), &s.lookup.path), (answer_name(&s.id), &s.answer.template)] {
                if let Err(e) = env.add_template_owned(name, source.clone()) {
                    tracing::warn!(scenario = %s.id, "template does not compile: {e}");
                }
            }
        }
        Self { env }
    }

    /// The entry's answer for `who` (the most specific matching variant, else its
    /// own answer) with the profile filled in; as written when it has no template
    /// or rendering fails.
    pub fn faq_answer(&self, entry: &FaqEntry, who: Customer<'_>) -> String {
        let (answer, variant) = entry.answer_for(who);
        match self.env.get_template(&faq_name(&entry.id, variant)) {
            Ok(t) => t.render(who.profile).unwrap_or_else(|_| answer.to_owned()),
            Err(_) => answer.to_owned(),
        }
    }

    /// A scenario's look-up path.
    pub fn lookup_path(&self, scenario: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
        self.env.get_template(&path_name(scenario))?.render(ctx)
    }

    /// A scenario's answer.
    pub fn scenario_answer(&self, scenario: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
        self.env.get_template(&answer_name(scenario))?.render(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_values_cannot_carry_markup() {
        let mut env = Environment::new();
        env.set_formatter(neutral_formatter);
        env.add_template("t", "您好，{{ name }}！余额 {{ n }} 元").unwrap();
        let t = env.get_template("t").unwrap();
        let out = t.render(serde_json::json!({"name": "<script>alert(1)</script>", "n": 12.5})).unwrap();
        assert_eq!(out, "您好，＜script＞alert(1)＜/script＞！余额 12.5 元");
        assert_eq!(t.render(serde_json::json!({"n": 1})).unwrap(), "您好，！余额 1 元");
    }
}
