//! Repairs of how customers mistype Chinese: a homophone typo (宽代 for 宽带, 冲值 for
//! 充值, 秘码 for 密码) or a word typed as pinyin without picking the characters
//! (查下yue, 查下liuliang) becomes the knowledge's own word with the same sound.
//!
//! Built from the knowledge's texts: only a noun the knowledge uses can be the
//! repair, and a span the knowledge itself contains is never repaired. A Chinese
//! span must be whole words of the customer's text (微信余额 never becomes 微信誉额),
//! must not be a word of the dictionary itself (花费 and 重启 stay) and must keep at
//! least one character of the repair in place (宽代 → 宽带, never 要吃 → 钥匙), so
//! ordinary text stays as it is.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use pinyin::ToPinyin;

/// Longest span (in characters) looked at.
const MAX_CHARS: usize = 4;

/// Shortest pinyin run (letters) taken for a word.
const MIN_LETTERS: usize = 3;

/// The knowledge's words by sound.
#[derive(Debug, Clone, Default)]
pub struct Homophones {
    /// Toneless pinyin, syllables joined ("kuandai") → the knowledge's word.
    by_sound: HashMap<String, String>,
    /// Every span of 2..=MAX_CHARS characters found in the knowledge's texts, and
    /// every run of letters.
    spans: HashSet<String>,
}

/// Toneless pinyin of a Chinese character.
fn sound(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// The joined toneless pinyin of `chars`, when every one is Chinese.
fn sounds(chars: &[char]) -> Option<String> {
    chars.iter().map(|&c| sound(c)).collect()
}

impl Homophones {
    /// Learn the words of `words` (the knowledge's nouns; those of 2 to 4 Chinese
    /// characters count, the most frequent wins a shared sound) and the spans of
    /// `texts` (normalised knowledge texts).
    pub fn build<'a>(words: impl IntoIterator<Item = &'a str>, texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for w in words {
            let n = w.chars().count();
            if (2..=MAX_CHARS).contains(&n) && w.chars().all(|c| sound(c).is_some()) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut by_sound = HashMap::new();
        for (w, _) in ranked {
            let chars: Vec<char> = w.chars().collect();
            if let Some(s) = sounds(&chars) {
                by_sound.entry(s).or_insert_with(|| w.to_owned());
            }
        }
        let mut spans = HashSet::new();
        for t in texts {
            let chars: Vec<char> = t.chars().collect();
            for i in 0..chars.len() {
                for n in 2..=MAX_CHARS.min(chars.len() - i) {
                    spans.insert(chars[i..i + n].iter().collect());
                }
            }
            for run in letter_runs(&chars) {
                spans.insert(chars[run].iter().collect());
            }
        }
        Self { by_sound, spans }
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.by_sound.is_empty()
    }

    /// `normalized` with its mistyped words repaired (borrowed when none was).
    /// `tokens` are its words as segmented (joining back to it); `is_word` tells
    /// the dictionary's words.
    pub fn repair<'t>(&self, normalized: &'t str, tokens: &[&str], is_word: impl Fn(&str) -> bool) -> Cow<'t, str> {
        if self.is_empty() {
            return Cow::Borrowed(normalized);
        }
        let chars: Vec<char> = normalized.chars().collect();
        let mut bounds = vec![false; chars.len() + 1];
        let mut at = 0;
        bounds[0] = true;
        for t in tokens {
            at += t.chars().count();
            if let Some(b) = bounds.get_mut(at) {
                *b = true;
            }
        }
        let fits = |i: usize, n: usize| bounds[i] && bounds[i + n];
        let mut out = String::with_capacity(normalized.len());
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            if let Some((n, word)) = self.repair_at(&chars, i, &fits, &is_word) {
                out.push_str(word);
                changed = true;
                i += n;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        if changed { Cow::Owned(out) } else { Cow::Borrowed(normalized) }
    }

    /// The repair of the span starting at `i`: its length and the word.
    fn repair_at(
        &self,
        chars: &[char],
        i: usize,
        fits: &impl Fn(usize, usize) -> bool,
        is_word: &impl Fn(&str) -> bool,
    ) -> Option<(usize, &str)> {
        if chars[i].is_ascii_alphabetic() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let n = chars[i..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
            let run: String = chars[i..i + n].iter().collect::<String>().to_ascii_lowercase();
            let ends_word = chars.get(i + n).is_none_or(|c| !c.is_ascii_digit());
            if n >= MIN_LETTERS && ends_word && !self.spans.contains(&run) {
                return self.by_sound.get(&run).map(|w| (n, w.as_str()));
            }
            return None;
        }
        (2..=MAX_CHARS.min(chars.len() - i)).rev().find_map(|n| {
            if !fits(i, n) {
                return None;
            }
            let span = &chars[i..i + n];
            let text: String = span.iter().collect();
            if self.spans.contains(&text) || is_word(&text) {
                return None;
            }
            let word = self.by_sound.get(&sounds(span)?)?;
            let kept = word.chars().zip(span).any(|(a, b)| a == *b);
            kept.then_some((n, word.as_str()))
        })
    }
}

/// Maximal runs of ASCII letters.
fn letter_runs(chars: &[char]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() {
            let n = chars[i..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
            runs.push(i..i + n);
            i += n;
        } else {
            i += 1;
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repair with every character a word of its own and no dictionary.
    fn repair(h: &Homophones, text: &str) -> String {
        let tokens: Vec<String> = text.chars().map(String::from).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        h.repair(text, &tokens, |w| w == "要吃").into_owned()
    }

    fn knowledge() -> Homophones {
        let texts =
            ["宽带怎么办理", "怎么充值话费", "忘记服务密码", "话费余额咋查", "流量用完了", "wifi怎么连", "要钥匙"];
        let words = ["宽带", "办理", "充值", "话费", "服务", "密码", "余额", "流量", "钥匙", "话费"];
        Homophones::build(words, texts)
    }

    #[test]
    fn homophone_typos_become_the_knowledge_word() {
        let h = knowledge();
        assert_eq!(repair(&h, "新房子想装个宽代"), "新房子想装个宽带");
        assert_eq!(repair(&h, "冲值怎么冲"), "充值怎么冲");
        assert_eq!(repair(&h, "服务秘码忘了"), "服务密码忘了");
        assert_eq!(repair(&h, "花费还剩多少"), "话费还剩多少");
    }

    #[test]
    fn pinyin_runs_become_the_knowledge_word() {
        let h = knowledge();
        assert_eq!(repair(&h, "查下yue"), "查下余额");
        assert_eq!(repair(&h, "查下liuliang 还有多少"), "查下流量 还有多少");
    }

    #[test]
    fn ordinary_text_stays() {
        let h = knowledge();
        for text in ["宽带怎么办理", "我要吃饭", "wifi连不上", "订单ab123", "yue123", "ok"] {
            assert_eq!(repair(&h, text), text, "{text}");
        }
        assert!(matches!(h.repair("宽带怎么办理", &["宽带", "怎么", "办理"], |_| false), Cow::Borrowed(_)));
        assert_eq!(repair(&Homophones::default(), "宽代"), "宽代");
    }

    #[test]
    fn only_whole_words_that_are_not_words_already() {
        let h = knowledge();
        assert_eq!(h.repair("微信余额", &["微信", "余额"], |_| false), "微信余额");
        assert_eq!(h.repair("花费", &["花费"], |w| w == "花费"), "花费");
        assert_eq!(h.repair("装个宽代", &["装个", "宽代"], |_| false), "装个宽带");
        assert_eq!(h.repair("装个宽代", &["装", "个宽", "代"], |_| false), "装个宽代");
    }
}
