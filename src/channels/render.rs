//! A reply as plain text for channels without buttons: the reply's text (a
//! clarification's candidates are already numbered in it, and the customer picks
//! by typing the number), related questions as lines, self-service actions as
//! `label：url` links; cut to the channel's length limit. Pure.

use crate::dialogue::{Reply, WelcomeSuggestion};

/// What a rendering needs besides the reply.
#[derive(Debug, Clone, Copy)]
pub struct Style<'a> {
    /// Heading of the related questions ("您可能还想问：").
    pub related_title: &'a str,
    /// Heading of the welcome's suggestions.
    pub suggestions_title: &'a str,
    /// Longest message the channel takes, in UTF-8 bytes.
    pub max_bytes: usize,
}

/// The text a channel sends for `reply`.
pub fn reply_text(reply: &Reply, style: Style<'_>) -> String {
    let mut text = reply.text.trim_end().to_owned();
    if !reply.actions.is_empty() {
        for action in &reply.actions {
            text.push('\n');
            text.push_str(&format!("{}：{}", action.label, action.url));
        }
    }
    if !reply.related.is_empty() {
        text.push_str("\n\n");
        text.push_str(style.related_title);
        for related in &reply.related {
            text.push_str("\n· ");
            text.push_str(&related.question);
        }
    }
    fit(&text, style.max_bytes)
}

/// The text a channel sends to greet a customer.
pub fn welcome_text(greeting: &str, suggestions: &[WelcomeSuggestion], style: Style<'_>) -> String {
    let mut text = greeting.trim_end().to_owned();
    if !suggestions.is_empty() {
        text.push_str("\n\n");
        text.push_str(style.suggestions_title);
        for s in suggestions {
            text.push_str("\n· ");
            text.push_str(&s.question);
        }
    }
    fit(&text, style.max_bytes)
}

/// `text` within `max_bytes` of UTF-8: whole lines while they fit, then the
/// line that does not cut at a character boundary with "…".
pub fn fit(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    const ELLIPSIS: &str = "…";
    let budget = max_bytes.saturating_sub(ELLIPSIS.len());
    let mut cut = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() > budget {
            break;
        }
        cut = i + c.len_utf8();
    }
    // Prefer ending at a line break when one is in the last fifth.
    let kept = &text[..cut];
    let kept = match kept.rfind('\n') {
        Some(nl) if nl >= cut * 4 / 5 => &kept[..nl],
        _ => kept,
    };
    format!("{}{ELLIPSIS}", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::{Suggestion, TurnAction};

    fn reply(text: &str) -> Reply {
        Reply {
            turn: 1,
            action: TurnAction::Answer,
            text: text.into(),
            matched: None,
            candidates: Vec::new(),
            related: Vec::new(),
            actions: Vec::new(),
            handoff: None,
            owner: crate::dialogue::Holder::Bot,
        }
    }

    const STYLE: Style<'static> =
        Style { related_title: "您可能还想问：", suggestions_title: "您可以问我：", max_bytes: 2000 };

    #[test]
    fn related_questions_and_actions_become_lines() {
        let mut r = reply("宽带办理请带身份证到营业厅。");
        r.related = vec![Suggestion { id: "b".into(), question: "宽带多少钱一年".into(), score: None }];
        r.actions = vec![crate::knowledge::Action { label: "在线办理".into(), url: "https://x.example/b".into() }];
        assert_eq!(
            reply_text(&r, STYLE),
            "宽带办理请带身份证到营业厅。\n在线办理：https://x.example/b\n\n您可能还想问：\n· 宽带多少钱一年"
        );
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_within_the_limit() {
        let long = "宽".repeat(1000);
        let out = fit(&long, 100);
        assert!(out.len() <= 100, "{}", out.len());
        assert!(out.ends_with('…'));
        assert_eq!(fit("short", 100), "short");
        let lines = format!("{}\n{}", "a".repeat(90), "b".repeat(50));
        assert_eq!(fit(&lines, 100), format!("{}…", "a".repeat(90)));
    }

    #[test]
    fn the_welcome_lists_its_suggestions() {
        let s = vec![WelcomeSuggestion {
            id: "x".into(),
            question: "怎么查流量".into(),
            reason: crate::dialogue::WhySuggested::Popular,
        }];
        assert_eq!(welcome_text("您好！", &s, STYLE), "您好！\n\n您可以问我：\n· 怎么查流量");
        assert_eq!(welcome_text("您好！", &[], STYLE), "您好！");
    }
}
