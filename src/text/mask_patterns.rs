//! Personal data that is not one long number, found by its shape or by the words
//! that introduce it: e-mail addresses, landlines, IP addresses, licence plates,
//! passports, QQ and WeChat ids, birthdays, names after 我叫/姓名, street addresses.
//! Each becomes a bracketed label (`[邮箱]`, `[姓名]` …) so a reader of the log still
//! sees what kind of thing the customer gave. Pure.
//!
//! Introduced ones (QQ, WeChat, birthday, name, passport) keep their introducing
//! word: `QQ号[QQ]`, `我叫[姓名]`.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// A shape and what replaces it. `keep` = capture group 1 is kept before the label.
struct Pattern {
    regex: Regex,
    label: &'static str,
    keep: bool,
}

fn pattern(re: &str, label: &'static str, keep: bool) -> Pattern {
    Pattern { regex: Regex::new(re).expect("a built-in personal-data pattern compiles"), label, keep }
}

/// Digits as typed: ASCII or full-width.
const D: &str = "[0-9０-９]";

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let date = format!(
        r"(?:{D}{{4}}\s*[年/.\-－]\s*{D}{{1,2}}\s*[月/.\-－]\s*{D}{{1,2}}\s*[日号]?|{D}{{8}}|{D}{{1,2}}\s*月\s*{D}{{1,2}}\s*[日号])"
    );
    let han_number = "[0-9０-９一二三四五六七八九十百零〇]";
    vec![
        pattern(r"[A-Za-z0-9._%+*\-]+[@＠][A-Za-z0-9\-]+(?:[.．][A-Za-z0-9\-]+)+", "[邮箱]", false),
        pattern(r"(?i)((?:qq|扣扣|企鹅)\s*(?:号码|号)?\s*[:：是为]?\s*)[0-9０-９]{5,11}", "[QQ]", true),
        pattern(
            r"(?i)((?:微信|威信|薇信|v信|vx|wx|weixin|wechat)\s*(?:号码|号|id)?\s*[:：是为]?\s*)[A-Za-z][\-_A-Za-z0-9]{5,19}",
            "[微信]",
            true,
        ),
        pattern(
            &format!(r"((?:生日|出生日期|出生年月|出生于|出生在|生于|出生)\s*(?:是|为|在)?\s*[:：]?\s*){date}"),
            "[生日]",
            true,
        ),
        pattern(r"((?:护照|passport)\s*(?:号码|号|no\.?)?\s*[:：是为]?\s*)[A-Za-z]{1,2}[0-9]{7,8}", "[护照]", true),
        pattern(r"(?-u:\b)[EGeg][A-Za-z]?[0-9]{7,8}(?-u:\b)", "[护照]", false),
        pattern(
            r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]\s?[·•\-]?\s?[A-HJ-NP-Z0-9]{5,6}(?-u:\b)",
            "[车牌]",
            false,
        ),
        pattern(
            r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?-u:\b)",
            "[IP]",
            false,
        ),
        pattern(
            r"(?:[(（]0[0-9]{2,3}[)）]|(?-u:\b)0[0-9]{2,3})\s?[\-－]?\s?(?:[0-9]{7,8}|[0-9]{3,4}[\s\-－][0-9]{4})(?-u:\b)",
            "[固话]",
            false,
        ),
        pattern(
            &format!(
                r"(?:路|街|大道|巷|弄|胡同|村|小区|花园|公寓|大厦|苑|家园)\s*{han_number}+\s*(?:号院|号楼|号|弄|栋|幢|期)(?:\s*[0-9０-９一二三四五六七八九十A-Za-z#\-－]+\s*(?:号楼|号|栋|幢|单元|室|楼|层|户))*"
            ),
            "[地址]",
            false,
        ),
        pattern(
            &format!(r"{D}+\s*(?:栋|幢|号楼)\s*{D}+\s*单元(?:\s*{D}+\s*(?:室|号))?|{D}{{3,4}}\s*室"),
            "[地址]",
            false,
        ),
    ]
});

/// First characters of what follows a name word but is no name: "我叫了外卖",
/// "我叫个人来", "名字是什么", "收件人是我妈".
const NOT_A_NAME: &[char] = &[
    '了', '个', '人', '车', '你', '他', '她', '它', '过', '啥', '什', '外', '快', '客', '的', '一', '们', '信', '地',
    '电', '填', '写', '改', '怎', '是', '不', '错', '有', '在', '要', '和', '跟', '都', '还', '我', '谁', '哪', '多',
];

/// A name after the words that introduce one: 我叫, 名字是 at once; 姓名, 联系人,
/// 收件人, 收货人 only with a colon or 是/为 ("姓名：张三"), so "收货人信息怎么改" is
/// a question.
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"((?:我叫|我的名字叫|我的名字是|名字叫|名字是|本人叫|(?:姓名|联系人|收件人|收货人)\s*(?:[:：]|是|为))\s*)([\p{Han}·]{2,4})",
    )
    .expect("the name pattern compiles")
});

/// Replace every personal datum of the shapes above with its label.
pub(super) fn mask_patterns(text: &str) -> String {
    let mut out = text.to_owned();
    for p in PATTERNS.iter() {
        if !p.regex.is_match(&out) {
            continue;
        }
        out = p
            .regex
            .replace_all(&out, |c: &Captures<'_>| {
                let kept = if p.keep { c.get(1).map_or("", |m| m.as_str()) } else { "" };
                format!("{kept}{}", p.label)
            })
            .into_owned();
    }
    if NAME.is_match(&out) {
        out = NAME
            .replace_all(&out, |c: &Captures<'_>| {
                let name = &c[2];
                if name.starts_with(NOT_A_NAME) { c[0].to_owned() } else { format!("{}[姓名]", &c[1]) }
            })
            .into_owned();
    }
    out
}
