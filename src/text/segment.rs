//! Chinese word segmentation with jieba, extended by a user dictionary and by the
//! knowledge's own terms.
//!
//! Works on normalised text; knows nothing of synonyms or stop words.

use jieba_rs::Jieba;

/// Frequency given to knowledge terms (tags, synonyms) so jieba keeps them whole.
const KNOWLEDGE_TERM_FREQ: usize = 100_000;

/// A jieba segmenter with the default dictionary plus domain words.
pub struct ChineseSegmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for ChineseSegmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChineseSegmenter").finish_non_exhaustive()
    }
}

/// One word of a user dictionary (jieba format: `word [freq] [tag]`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWord {
    /// The word, already normalised.
    pub word: String,
    /// Its frequency; `None` lets jieba pick one that keeps the word whole.
    pub freq: Option<usize>,
    /// Part-of-speech tag, if given.
    pub tag: Option<String>,
}

impl ChineseSegmenter {
    /// A segmenter with jieba's default dictionary, the user dictionary and extra
    /// knowledge terms (each kept as one word).
    pub fn new<'a>(user_words: &[UserWord], terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut jieba = Jieba::new();
        for w in user_words {
            jieba.add_word(&w.word, w.freq, w.tag.as_deref());
        }
        for term in terms {
            if !term.is_empty() && !term.contains(' ') {
                jieba.add_word(term, Some(KNOWLEDGE_TERM_FREQ), None);
            }
        }
        Self { jieba }
    }

    /// The words of normalised text as jieba cuts it (with its model for unknown
    /// words), spaces included: they join back to the text.
    pub fn tokens<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba.cut(text, true).into_iter().map(|t| t.word).collect()
    }

    /// The words of normalised text by the dictionary alone (no model for unknown
    /// words: a run of unknown characters stays single characters), spaces
    /// included. Every boundary of [`tokens`](Self::tokens) is one of these too, so
    /// a mistyped word that jieba's model glued to its neighbour (宽代坏了 →
    /// 宽代坏 / 了) is still whole words here (宽 / 代 / 坏 / 了).
    pub fn dictionary_tokens<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba.cut(text, false).into_iter().map(|t| t.word).collect()
    }

    /// Whether `word` is in the dictionary.
    pub fn is_word(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }

    /// Whether `word`, read alone, is a noun (jieba's part-of-speech tag `n…`,
    /// `vn` or a user word without a tag's `x`).
    pub fn is_noun(&self, word: &str) -> bool {
        match self.jieba.tag(word, false).as_slice() {
            [t] => t.tag.starts_with('n') || t.tag == "vn",
            _ => false,
        }
    }

    /// Segment normalised text in search mode: each word, preceded by its
    /// in-dictionary 2- and 3-character sub-words (`无线网络` → `无线`, `网络`,
    /// `无线网络`), spaces dropped. Words for which `keep_whole` is true (synonyms,
    /// domain terms) are not split into sub-words: their parts would only add noise.
    pub fn segment<'a>(&self, text: &'a str, keep_whole: impl Fn(&str) -> bool) -> Vec<&'a str> {
        let mut out = Vec::new();
        for token in self.jieba.cut(text, true) {
            let word = token.word;
            if word.trim().is_empty() {
                continue;
            }
            if !keep_whole(word) {
                let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).chain([word.len()]).collect();
                let chars = bounds.len() - 1;
                for n in [2, 3] {
                    if chars > n {
                        for start in 0..=chars - n {
                            let gram = &word[bounds[start]..bounds[start + n]];
                            if self.jieba.has_word(gram) {
                                out.push(gram);
                            }
                        }
                    }
                }
            }
            out.push(word);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_tokens_leave_unknown_runs_as_characters() {
        let s = ChineseSegmenter::new(&[], []);
        assert_eq!(s.dictionary_tokens("宽代坏了").concat(), "宽代坏了");
        assert!(s.dictionary_tokens("宽代坏了").contains(&"代"), "{:?}", s.dictionary_tokens("宽代坏了"));
        assert!(s.dictionary_tokens("微信余额").contains(&"余额"));
    }

    #[test]
    fn knowledge_terms_stay_whole() {
        let plain = ChineseSegmenter::new(&[], []);
        let with_term = ChineseSegmenter::new(&[], ["亲情号"]);
        assert!(!plain.segment("办理亲情号", |_| false).contains(&"亲情号"));
        assert!(with_term.segment("办理亲情号", |_| false).contains(&"亲情号"));
    }

    #[test]
    fn user_dictionary_words_stay_whole() {
        let words = [UserWord { word: "畅享套餐".into(), freq: Some(50_000), tag: Some("n".into()) }];
        let seg = ChineseSegmenter::new(&words, []);
        assert!(seg.segment("我想改畅享套餐", |_| false).contains(&"畅享套餐"));
    }
}

#[cfg(test)]
mod search_mode_tests {
    use super::*;

    #[test]
    fn long_words_add_sub_words_unless_kept_whole() {
        let seg = ChineseSegmenter::new(&[], []);
        assert_eq!(
            seg.segment("中华人民共和国", |_| false),
            vec!["中华", "华人", "人民", "共和", "共和国", "中华人民共和国"]
        );
        assert_eq!(seg.segment("中华人民共和国", |w| w == "中华人民共和国"), vec!["中华人民共和国"]);
    }
}
