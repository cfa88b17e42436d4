//! Text analysis: normalise, segment, map synonyms, drop stop words.
//!
//! The [`Analyzer`] is the one place that turns customer text into index terms; the
//! lexical index registers it as its tantivy tokenizer so index and query time can
//! never disagree. It does no I/O: vocabularies come from the knowledge loader.

mod codes;
mod homophone;
mod mask;
mod mask_patterns;
mod names;
mod normalize;
mod segment;
mod synonyms;

use std::collections::HashSet;

pub use codes::joined_codes;
pub use homophone::Homophones;
pub use mask::{find_mobile, mask_pii};
pub use names::BusinessNames;
pub use normalize::{NormalizeConfig, normalize};
pub use segment::{ChineseSegmenter, UserWord};
pub use synonyms::Synonyms;

/// Function words that carry no meaning for finding an answer. Question words such
/// as 怎么/如何/多少 stay: they tell "how" from "how much".
const STOP_WORDS: &[&str] = &[
    "的", "了", "吗", "呢", "吧", "啊", "呀", "哦", "嘛", "么", "哈", "啦", "哎", "嗯", "请", "请问", "一下", "您好",
    "你好", "您", "麻烦", "谢谢", "是", "在", "和", "与", "及", "就", "都", "也", "还", "又", "这", "那", "这个",
    "那个", "着", "过", "吗吗", "呃", "额",
];

/// The vocabulary an analyser is built from: the knowledge's customer vocabulary.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Synonym groups, canonical term first, already normalised.
    pub synonym_groups: Vec<Vec<String>>,
    /// jieba user dictionary words.
    pub user_words: Vec<UserWord>,
    /// Other domain terms to keep whole (tags, categories).
    pub terms: Vec<String>,
}

/// Turns text into index terms.
#[derive(Debug)]
pub struct Analyzer {
    config: NormalizeConfig,
    segmenter: ChineseSegmenter,
    synonyms: Synonyms,
    stop_words: HashSet<&'static str>,
}

impl Analyzer {
    /// An analyser over a vocabulary.
    /// Vocabulary terms are normalised here, so editors may write `WIFI` or `ＷＩＦＩ`.
    pub fn new(config: NormalizeConfig, vocabulary: &Vocabulary) -> Self {
        let norm = |t: &String| normalize(t, &config);
        let groups: Vec<Vec<String>> = vocabulary.synonym_groups.iter().map(|g| g.iter().map(norm).collect()).collect();
        let synonyms = Synonyms::new(&groups);
        let user_words: Vec<UserWord> =
            vocabulary.user_words.iter().map(|w| UserWord { word: norm(&w.word), ..w.clone() }).collect();
        let extra: Vec<String> = vocabulary.terms.iter().map(norm).collect();
        let terms = synonyms.terms().chain(extra.iter().map(String::as_str));
        let segmenter = ChineseSegmenter::new(&user_words, terms);
        Self { config, segmenter, synonyms, stop_words: STOP_WORDS.iter().copied().collect() }
    }

    /// An analyser with jieba's default dictionary and no customer vocabulary.
    pub fn plain() -> Self {
        Self::new(NormalizeConfig::default(), &Vocabulary::default())
    }

    /// Normalise text as the analyser does before segmenting.
    pub fn normalize(&self, text: &str) -> String {
        normalize(text, &self.config)
    }

    /// Index terms of `text`: normalised, segmented (search mode), synonyms mapped to
    /// their canonical term, stop words dropped. Order follows the text.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let normalized = self.normalize(text);
        self.segmenter
            .segment(&normalized, |w| self.synonyms.contains(w))
            .into_iter()
            .filter(|w| !self.stop_words.contains(w))
            .map(|w| self.synonyms.canonical(w).to_owned())
            .collect()
    }

    /// The segmenter (for repairs that need word boundaries and the dictionary).
    pub fn segmenter(&self) -> &ChineseSegmenter {
        &self.segmenter
    }

    /// Segmentation rendered as readable text (`词 / 词 / 词`), for golden tests and
    /// for `bizbot ask`.
    pub fn render(&self, text: &str) -> String {
        self.terms(text).join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Analyzer {
        let vocabulary = Vocabulary {
            synonym_groups: vec![
                vec!["wlan".into(), "wifi".into(), "无线网".into(), "无线网络".into()],
                vec!["流量".into(), "数据".into(), "上网流量".into()],
            ],
            user_words: vec![],
            terms: vec!["亲情号".into()],
        };
        Analyzer::new(NormalizeConfig::default(), &vocabulary)
    }

    #[test]
    fn golden_segmentation() {
        let a = demo();
        let cases = [
            ("WIFI免费吗", "wlan / 免费"),
            ("ＷＩＦＩ免費嗎？", "wlan / 免费"),
            ("請問怎麼退貨", "怎么 / 退货"),
            ("我的5G套餐还剩多少流量", "我 / 5g / 套餐 / 剩 / 多少 / 流量"),
            ("有没有免费的无线网络", "没有 / 有没有 / 免费 / wlan"),
            ("亲情号怎么办理😀", "亲情 / 亲情号 / 怎么 / 办理 / 😀"),
            ("iPhone 15 Pro 支持 eSIM 吗", "iphone / 15 / pro / 支持 / esim"),
        ];
        let got: Vec<String> = cases.iter().map(|(q, _)| format!("{q} => {}", a.render(q))).collect();
        let want: Vec<String> = cases.iter().map(|(q, w)| format!("{q} => {w}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn empty_text_has_no_terms() {
        assert!(demo().terms("").is_empty());
        assert!(demo().terms("？！。 ").is_empty());
    }
}
