//! Messages that are only a greeting, a thank-you or a calling-off ("你好", "在吗",
//! "好的谢谢", "算了不查了"): no question to answer and no sign the customer is
//! stuck. They get a short reply of their own; greetings and thanks leave the
//! unresolved streak and any pending choice as they are.

/// What kind of pleasantry a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pleasantry {
    /// Only greetings ("你好", "在吗", "hello").
    Greeting,
    /// Thanks or an acknowledgement, possibly with a greeting ("好的谢谢").
    Thanks,
    /// Calling off what the bot asked for ("不查了", "算了谢谢").
    Cancel,
}

/// Characters that may stand between or around the phrases: particles,
/// punctuation and spaces.
const FILLER: &[char] = &[
    '啊', '呀', '哦', '噢', '呢', '吗', '嘛', '么', '啦', '哈', '哇', '~', '～', ' ', ',', '.', '!', '?', '，', '。',
    '！', '？', '、', '…',
];

/// Whether `text` (normalised: lower case, simplified) consists only of phrases
/// from `greetings`, `thanks` and `cancel` with filler between them, and which
/// kind (a calling-off over thanks over a greeting); `None` for anything else,
/// including a text with no phrase at all.
pub fn classify(text: &str, greetings: &[String], thanks: &[String], cancel: &[String]) -> Option<Pleasantry> {
    let mut rest = text.trim();
    let mut seen = [false; 3];
    let lists = [greetings, thanks, cancel];
    while let Some(c) = rest.chars().next() {
        if FILLER.contains(&c) {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        // The longest phrase of any list here; on a tie the later list (thanks
        // over greetings, a calling-off over both).
        let (kind, len) = lists
            .iter()
            .enumerate()
            .flat_map(|(kind, phrases)| phrases.iter().map(move |p| (kind, p)))
            .filter(|(_, p)| !p.is_empty() && rest.starts_with(p.as_str()))
            .map(|(kind, p)| (kind, p.len()))
            .max_by_key(|&(kind, len)| (len, kind))?;
        seen[kind] = true;
        rest = &rest[len..];
    }
    match seen {
        [_, _, true] => Some(Pleasantry::Cancel),
        [_, true, false] => Some(Pleasantry::Thanks),
        [true, false, false] => Some(Pleasantry::Greeting),
        [false, false, false] => None,
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

    fn cancel() -> Vec<String> {
        ["不查了", "不用了", "算了", "取消"].map(String::from).to_vec()
    }

    #[test]
    fn calling_off_wins_over_thanks_and_greetings() {
        let (g, t) = lists();
        let c = cancel();
        assert_eq!(classify("不查了", &g, &t, &c), Some(Pleasantry::Cancel));
        assert_eq!(classify("算了算了 不用了谢谢", &g, &t, &c), Some(Pleasantry::Cancel));
        assert_eq!(classify("好的谢谢", &g, &t, &c), Some(Pleasantry::Thanks));
        assert_eq!(classify("订单不要了 取消", &g, &t, &c), None);
        assert_eq!(classify("取消订单", &g, &t, &c), None);
    }

    #[test]
    fn greetings_and_thanks_alone_are_recognised() {
        let (g, t) = lists();
        assert_eq!(classify("你好", &g, &t, &[]), Some(Pleasantry::Greeting));
        assert_eq!(classify("你好呀 在吗？？", &g, &t, &[]), Some(Pleasantry::Greeting));
        assert_eq!(classify("hello", &g, &t, &[]), Some(Pleasantry::Greeting));
        assert_eq!(classify("好的谢谢啦", &g, &t, &[]), Some(Pleasantry::Thanks));
        assert_eq!(classify("您好，谢谢", &g, &t, &[]), Some(Pleasantry::Thanks));
    }

    #[test]
    fn anything_with_a_question_is_not_a_pleasantry() {
        let (g, t) = lists();
        for text in ["你好 话费怎么查", "在吗 我要退货", "谢谢 还有个问题", "hi我的宽带坏了", "吗", "", "好"]
        {
            assert_eq!(classify(text, &g, &t, &[]), None, "{text}");
        }
    }
}
