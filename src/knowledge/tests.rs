//! Loader and validation tests over small files written to a temporary folder.

use std::path::Path;

use super::*;

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), content).expect("write fixture");
}

fn problems_of(dir: &Path) -> Vec<String> {
    match KnowledgeBase::load(dir) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| format!("{}:{}: {}", p.file.file_name().unwrap().to_string_lossy(), p.line, p.field))
            .collect(),
    }
}

const CSV: &str = "\u{feff}id,question,similar,answer,category,tags,related,actions,handoff
refund,怎么退货,如何退货|退货流程,在订单页申请退货。,售后,退货,exchange,申请退货=>https://shop.example.com/returns,
exchange,怎么换货,\"换货,流程\",在订单页申请换货。,售后,,,,否
";

const MD: &str = "# 宽带业务
前言文字不属于任何条目。

## 宽带怎么报修？ {#broadband-repair}
> similar: 宽带坏了找谁 | 网络断了怎么办
> tags：宽带|报修
> actions: 在线报修=>https://example.com/repair
> handoff: false

先重启光猫。

### 仍然不行
```
# 这不是标题
```
拨打 10000 报修。

## 宽带多少钱
> related: broadband-repair
100 元/月。
";

#[test]
fn csv_and_markdown_load() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faq.csv", CSV);
    write(dir.path(), "broadband.md", MD);
    write(dir.path(), "synonyms.txt", "WLAN WIFI 无线网\n");
    write(dir.path(), "userdict.txt", "畅享套餐 300 n\n");
    write(dir.path(), "README.md", "# not knowledge\n");
    let kb = KnowledgeBase::load(dir.path()).expect("valid knowledge");
    assert_eq!(kb.faqs.len(), 4);
    let refund = kb.faq("refund").unwrap();
    assert_eq!(refund.similar, vec!["如何退货", "退货流程"]);
    assert_eq!(refund.actions[0].label, "申请退货");
    assert_eq!(refund.source.line, 2);
    assert_eq!(kb.faq("exchange").unwrap().similar, vec!["换货,流程"]);
    let repair = kb.faq("broadband-repair").unwrap();
    assert_eq!(repair.category, "宽带业务");
    assert_eq!(repair.tags, vec!["宽带", "报修"]);
    assert!(repair.answer.starts_with("先重启光猫。"));
    assert!(repair.answer.contains("# 这不是标题"));
    assert!(repair.answer.ends_with("拨打 10000 报修。"));
    let price = kb.faqs.iter().find(|f| f.question == "宽带多少钱").unwrap();
    assert!(price.id.starts_with("broadband-"), "{}", price.id);
    assert_eq!(price.answer, "100 元/月。");
    assert_eq!(kb.vocabulary.synonym_groups, vec![vec!["WLAN", "WIFI", "无线网"]]);
    assert_eq!(kb.vocabulary.user_words.len(), 1);
}

#[test]
fn a_single_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faq.csv", CSV);
    let kb = KnowledgeBase::load(&dir.path().join("faq.csv")).unwrap();
    assert_eq!(kb.faqs.len(), 2);
}

#[test]
fn every_problem_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.csv", "id,question,answer,colour\nx,问题一,答案,red\n");
    write(
        dir.path(),
        "b.csv",
        "id,question,answer,related,actions\n\
         dup,问题二,答案,,\n\
         dup,问题三,答案,,\n\
         e1,,答案,,\n\
         e2,问题四,,,\n\
         e3,问题二,答案,,\n\
         e4,问题五,答案,nowhere,\n\
         e5,问题六,答案,,坏动作\n\
         e6,问题七,答案\n",
    );
    write(dir.path(), "c.md", "## 问题八\n> colour: red\n> handoff: maybe\n答案\n## 问题九\n");
    write(dir.path(), "d.csv", b"id,question,answer\nok,\xd6\xd0\xce\xc4,x\n".as_slice());
    let got = problems_of(dir.path());
    let want = vec![
        "a.csv:1: colour",
        "b.csv:3: id",
        "b.csv:4: question",
        "b.csv:5: answer",
        "b.csv:6: question",
        "b.csv:7: related",
        "b.csv:8: actions",
        "b.csv:9: row",
        "c.md:2: colour",
        "c.md:3: handoff",
        "c.md:5: answer",
        "d.csv:2: encoding",
    ];
    assert_eq!(got, want);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_a_problem() {
    // A dangling symlink cannot be read even by root, unlike a chmod 000 file.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "faq.csv", CSV);
    std::os::unix::fs::symlink(dir.path().join("gone.md"), dir.path().join("broken.md")).unwrap();
    assert_eq!(problems_of(dir.path()), vec!["broken.md:0: file"]);
}

#[test]
fn a_missing_path_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let err = KnowledgeBase::load(&dir.path().join("nope")).unwrap_err();
    assert_eq!(err.problems()[0].field, "path");
}

#[test]
fn an_empty_folder_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(problems_of(dir.path()).len(), 1);
}

#[test]
fn variants_and_when_load_from_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.csv",
        "id,question,answer,when,answer[channel=sms],answer[tag=老年人]\n\
         balance,怎么查余额,发短信 YE 到 10086。,tag=欠费|profile.level=3,YE 到 10086,拨 10086 按 1\n\
         plain,怎么开发票,在 App 开。,,,\n",
    );
    write(
        dir.path(),
        "b.md",
        "# 订单\n## 订单到哪了 {#track}\n> when: profile.order_status=已发货\n\n在我的订单查看。\n\n\
         > for: channel=sms\n短信版。\n> for: channel=wechat tag=VIP\n微信 VIP 版。\n",
    );
    let kb = KnowledgeBase::load(dir.path()).expect("loads");
    let balance = kb.faq("balance").unwrap();
    assert_eq!(balance.variants.len(), 2);
    assert_eq!(balance.when.len(), 2);
    assert!(kb.faq("plain").unwrap().variants.is_empty());
    let track = kb.faq("track").unwrap();
    assert_eq!(track.answer, "在我的订单查看。");
    assert_eq!(track.variants.iter().map(|v| v.answer.as_str()).collect::<Vec<_>>(), ["短信版。", "微信 VIP 版。"]);
    assert_eq!(track.variants[1].line, 9);
    let profile = serde_json::json!({"order_status": "已发货"});
    let who = Customer { channel: Some("sms"), tags: &[], profile: &profile };
    assert_eq!(track.answer_for(who).0, "短信版。");
    assert!(track.offered_to(who));
}

#[test]
fn bad_audiences_and_variants_are_reported_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.csv",
        "id,question,answer,when,answer[colour=red],answer[tag=VIP],answer[channel=]\n\
         x,问题一,答案。,tag,短,VIP 版,空\n",
    );
    write(
        dir.path(),
        "b.md",
        "## 问题二 {#y}\n> when: sex=f\n答案。\n> for: tag=VIP\n\n> for: channel=sms\n短信。\n> for: tag=vip\n重复\n> for: nothing\n",
    );
    let problems = problems_of(dir.path());
    for want in [
        "a.csv:2: when",
        "a.csv:2: answer[colour=red]",
        "a.csv:2: answer[channel=]",
        "b.md:2: when",
        "b.md:4: for",
        "b.md:8: for",
        "b.md:10: for",
    ] {
        assert!(problems.iter().any(|p| p == want), "{want} not in {problems:?}");
    }
}
