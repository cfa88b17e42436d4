//! Text normalisation: full-width → half-width, case folding, traditional →
//! simplified Chinese, punctuation and whitespace.
//!
//! Pure functions over strings; no segmentation, no vocabulary (see `segment` and
//! `synonyms`).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

/// How text is normalised before segmentation, both at index and at query time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// Convert traditional Chinese to simplified, with Taiwan and Hong Kong wording
    /// turned into the mainland's (`請問怎麼退貨` → `请问怎么退货`, `行動網路` →
    /// `移动网络`), and a few service words zhconv keeps too, also in simplified
    /// text (`简讯` → `短信`, `宽频` → `宽带`; see `MAINLAND_WORDS`).
    #[serde(default = "default_true")]
    pub traditional_to_simplified: bool,
}

fn default_true() -> bool {
    true
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self { traditional_to_simplified: true }
    }
}

/// Normalise `text`: full-width ASCII to half-width, ideographic space to space, case
/// folded to lower, traditional to simplified Chinese with Taiwan and Hong Kong
/// service words turned into the mainland's (if configured), punctuation and
/// symbols to spaces, runs of whitespace collapsed, ends trimmed. Letters, digits, CJK
/// and emoji are kept.
pub fn normalize(text: &str, config: &NormalizeConfig) -> String {
    let narrowed: String = text.chars().map(to_half_width).collect();
    let simplified = if config.traditional_to_simplified && has_cjk(&narrowed) {
        mainland_words(zhconv::zhconv(&narrowed, zhconv::Variant::ZhCN))
    } else {
        narrowed
    };
    let mut out = String::with_capacity(simplified.len());
    let mut pending_space = false;
    for c in simplified.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() || is_punctuation(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Service words of Taiwan and Hong Kong that zhconv leaves as they are (it turns
/// 行動網路 into 移动网络, but 簡訊 only into 简讯), each with the mainland's word
/// customers of a mainland knowledge base mean; applied with
/// `traditional_to_simplified`. Matching is by substring, so a word is listed only
/// when it rarely stands inside another word in a customer's chat, and a longer
/// word that holds it maps to itself to guard it (通讯号码 is no 信号): 门号
/// (部门号码), 门市 (厦门市), 客诉 (顾客诉求), 增值 (增值业务) and 加值 (附加值,
/// 更加值得) are left out.
const MAINLAND_WORDS: &[(&str, &str)] = &[
    ("简讯", "短信"),
    ("储值", "充值"),
    ("宽频", "宽带"),
    ("讯号", "信号"),
    ("通讯号", "通讯号"),
    ("电讯号", "电讯号"),
    ("宅配", "快递"),
    ("手提电话", "手机"),
    ("吃到饱", "不限量"),
    ("保固", "保修"),
    ("确保固", "确保固"),
    ("担保固", "担保固"),
    ("环保固", "环保固"),
    ("保固定", "保固定"),
    ("绑约", "合约"),
    ("捆绑约", "捆绑约"),
    ("门号可携", "携号转网"),
];

/// `text` with the words of [`MAINLAND_WORDS`] replaced, in one pass (the
/// leftmost, then longest, match wins, so a guard starting earlier keeps its word).
fn mainland_words(text: String) -> String {
    static WORDS: LazyLock<(AhoCorasick, Vec<&str>)> = LazyLock::new(|| {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(MAINLAND_WORDS.iter().map(|(from, _)| from))
            .expect("the mainland words build an automaton");
        (automaton, MAINLAND_WORDS.iter().map(|(_, to)| *to).collect())
    });
    let (automaton, to) = &*WORDS;
    if automaton.is_match(&text) { automaton.replace_all(&text, to) } else { text }
}

/// Full-width ASCII variants (U+FF01–U+FF5E) to ASCII, the ideographic space to a space.
fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c))
}

/// ASCII and CJK punctuation and symbols that carry no meaning for retrieval.
/// `+`, `#`, `.` and `@` stay when they sit inside a word (`5g+`, `c#`, `1.5`) is not
/// worth the complexity here: they become spaces like the rest.
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() || c.is_ascii_control();
    }
    matches!(c,
        '\u{2000}'..='\u{206F}'   // general punctuation: “ ” ‘ ’ … — ‖
        | '\u{3000}'..='\u{303F}' // CJK symbols and punctuation: 。、《》「」【】〔〕
        | '\u{FE10}'..='\u{FE1F}' // vertical forms
        | '\u{FE30}'..='\u{FE4F}' // CJK compatibility forms
        | '\u{FE50}'..='\u{FE6F}' // small form variants
        | '\u{FF5F}'..='\u{FF65}' // half-width CJK punctuation
        | '\u{00A0}'..='\u{00BF}' // Latin-1 punctuation: « » · ¿
        | '\u{00D7}' | '\u{00F7}'
        | '\u{FFFD}'              // replacement character
        | '\u{FE0F}'              // emoji variation selector
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s, &NormalizeConfig::default())
    }

    #[test]
    fn full_width_becomes_half_width_and_lower_case() {
        assert_eq!(norm("ＷＩＦＩ密码１２３"), "wifi密码123");
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(norm("請問怎麼退貨"), "请问怎么退货");
        // Taiwan and Hong Kong wording becomes the mainland's, as customers of a
        // mainland knowledge base mean it.
        assert_eq!(norm("行動網路很慢"), "移动网络很慢");
        assert_eq!(norm("帳單明細 軟體"), "账单明细 软件");
        assert_eq!(norm("网络 账单"), "网络 账单", "simplified text stays as it is");
        // … and service words zhconv keeps, also when typed in simplified.
        assert_eq!(norm("寬頻斷線 簡訊儲值"), "宽带断线 短信充值");
        assert_eq!(norm("宽频讯号"), "宽带信号");
        assert_eq!(norm("手機可以保固嗎 綁約到期"), "手机可以保修吗 合约到期");
        assert_eq!(norm("門號可攜"), "携号转网");
        for kept in [
            "通讯号码",
            "厦门市的门市部",
            "顾客诉求",
            "部门号码",
            "增值业务",
            "确保固话畅通",
            "担保固定资产",
            "环保固废",
            "捆绑约定",
            "附加值",
            "更加值得",
        ] {
            assert_eq!(norm(kept), kept, "a word with another reading stays");
        }
    }

    #[test]
    fn traditional_kept_when_disabled() {
        let config = NormalizeConfig { traditional_to_simplified: false };
        assert_eq!(normalize("請問", &config), "請問");
    }

    #[test]
    fn punctuation_and_whitespace_collapse() {
        assert_eq!(norm("  你好，\t请问！！宽带（新装）多少钱？ "), "你好 请问 宽带 新装 多少钱");
    }

    #[test]
    fn emoji_kept_without_selectors() {
        assert_eq!(norm("太慢了😡\u{FE0F}!"), "太慢了😡");
    }

    #[test]
    fn empty_and_punctuation_only_give_empty() {
        assert_eq!(norm(""), "");
        assert_eq!(norm("？？。。!!"), "");
    }
}
