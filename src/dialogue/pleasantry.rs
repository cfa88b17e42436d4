//! Messages that are only a greeting or a thank-you ("你好", "在吗", "好的谢谢"):
//! no question to answer and no sign the customer is stuck. They get a short
//! reply of their own and leave the unresolved streak and any pending choice as
//! they are.

/// What kind of pleasantry a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pleasantry {
    /// Only greetings ("你好", "在吗", "hello").
    Greeting,
    /// Thanks or an acknowledgement, possibly with a greeting ("好的谢谢").
    Thanks,
}

/// Characters that may stand between or around the phrases: particles,
/// punctuation and spaces.
const FILLER: &[char] = &[
    '啊', '呀', '哦', '噢', '呢', '吗', '嘛', '么', '啦', '哈', '哇', '~', '～', ' ', ',', '.', '!', '?', '，', '。',
    '！', '？', '、', '…',
];

/// Whether `text` (normalised: lower case, simplified) consists only of phrases
/// from `greetings` and `thanks` with filler between them, and which kind; `None`
/// for anything else, including a text with no phrase at all.
pub fn classify(text: &str, greetings: &[String], thanks: &[String]) -> Option<Pleasantry> {
    let mut rest = text.trim();
    let (mut greeted, mut thanked) = (false, false);
    while let Some(c) = rest.chars().next() {
        if FILLER.contains(&c) {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let longest = |phrases: &[String]| {
            phrases.iter().filter(|p| !p.is_empty() && rest.starts_with(p.as_str())).map(String::len).max()
        };
        match (longest(greetings), longest(thanks)) {
            (Some(g), Some(t)) if t >= g => {
                thanked = true;
                rest = &rest[t..];
            }
            (Some(g), _) => {
                greeted = true;
                rest = &rest[g..];
            }
            (None, Some(t)) => {
                thanked = true;
                rest = &rest[t..];
            }
            (None, None) => return None,
        }
    }
    match (greeted, thanked) {
        (_, true) => Some(Pleasantry::Thanks),
        (true, false) => Some(Pleasantry::Greeting),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> (Vec<String>, Vec<String>) {
        let g = ["你好", "您好", "在吗", "在不在", "hello", "hi"].map(String::from).to_vec();
        let t = ["谢谢", "多谢", "好的", "知道了"].map(String::from).to_vec();
        (g, t)
    }

    #[test]
    fn greetings_and_thanks_alone_are_recognised() {
        let (g, t) = lists();
        assert_eq!(classify("你好", &g, &t), Some(Pleasantry::Greeting));
        assert_eq!(classify("你好呀 在吗？？", &g, &t), Some(Pleasantry::Greeting));
        assert_eq!(classify("hello", &g, &t), Some(Pleasantry::Greeting));
        assert_eq!(classify("好的谢谢啦", &g, &t), Some(Pleasantry::Thanks));
        assert_eq!(classify("您好，谢谢", &g, &t), Some(Pleasantry::Thanks));
    }

    #[test]
    fn anything_with_a_question_is_not_a_pleasantry() {
        let (g, t) = lists();
        for text in ["你好 话费怎么查", "在吗 我要退货", "谢谢 还有个问题", "hi我的宽带坏了", "吗", "", "好"]
        {
            assert_eq!(classify(text, &g, &t), None, "{text}");
        }
    }
}
