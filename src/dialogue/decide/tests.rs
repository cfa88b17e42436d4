//! The decision rules with hand-built signals: no model, no index, milliseconds.

use super::*;
use crate::dialogue::signals::SlotValue;

const CSV: &str = "id,question,similar,answer,category,tags,related,actions,handoff\n\
    refund,怎么退货,如何退货,在订单页申请退货。,售后,,,,\n\
    refund-late,超过七天还能退货吗,,七天后不支持无理由退货。,售后,,,,\n\
    cancel,宽带怎么取消,,请转人工办理。,宽带,,,,true\n";

const SCENARIOS: &str = r#"
[[scenario]]
id = "order-status"
category = "订单"
examples = ["我的订单到哪了"]
[[scenario.slots]]
name = "order_id"
pattern = "\\d{12}"
prompt = "请提供订单号。"
[scenario.lookup]
backend = "shop"
path = "/orders/{{ slots.order_id }}"
[scenario.answer]
template = "{{ data.status }}"
[scenario.on_failure]
message = "没有查到这个订单。"
handoff = false

[[scenario]]
id = "my-services"
category = "套餐"
examples = ["我开通了什么业务"]
requires_user = true
[scenario.lookup]
backend = "crm"
path = "/customers/{{ user.id }}/services"
[scenario.answer]
template = "{{ data.services }}"
[scenario.on_failure]
message = "暂时查不到。"
handoff = true
"#;

fn kb() -> KnowledgeBase {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("faq.csv"), CSV).unwrap();
    std::fs::write(dir.path().join("scenarios.toml"), SCENARIOS).unwrap();
    KnowledgeBase::load(dir.path()).unwrap()
}

/// The defaults with the lone-entry rule below `answer` (the default sets both
/// equal), so the tests see both rules apart.
fn thresholds() -> ThresholdConfig {
    ThresholdConfig { answer: 0.7, answer_alone: 0.6, ..ThresholdConfig::default() }
}

fn escalation() -> EscalationConfig {
    EscalationConfig {
        complaint: true,
        complaint_phrases: vec!["投诉".into()],
        complaint_hedges: vec![],
        complaint_question_modals: vec![],
        complaint_question_tails: vec![],
        complaint_examples: vec![],
        ordinary_examples: vec![],
        complaint_threshold: 0.9,
        builtin_complaint_examples: false,
        complaint_model_min_chars: 0,
        human_request: true,
        human_phrases: vec!["转人工".into()],
        human_question_words: vec![],
        human_verbs: vec![],
        human_nouns: vec![],
        human_fillers: vec![],
        bot_words: vec![],
        bot_rejections: vec![],
        unresolved: true,
        max_unresolved_turns: 3,
        flagged_entries: true,
    }
}

fn faq(id: &str, score: f32) -> FaqCandidate {
    FaqCandidate { id: id.into(), score, fused: score, lexical: score, cosine: None, matched: String::new() }
}

fn intent(id: &str, score: f32) -> crate::dialogue::signals::IntentCandidate {
    crate::dialogue::signals::IntentCandidate { id: id.into(), score, example: String::new() }
}

fn signals(text: &str, faqs: Vec<FaqCandidate>) -> Signals {
    Signals { text: text.into(), normalized: text.into(), faqs, ..Signals::default() }
}

/// Run turns from a fresh state; the decisions in order.
fn run(turns: &[Signals]) -> Vec<Decision> {
    let (kb, t, e) = (kb(), thresholds(), escalation());
    let greetings = ["你好".to_owned(), "在吗".to_owned()];
    let thanks = ["谢谢".to_owned()];
    let cancel = ["不查了".to_owned(), "算了".to_owned()];
    let policy = Policy {
        thresholds: &t,
        escalation: &e,
        agent_desk: false,
        agents_available: true,
        greetings: &greetings,
        thanks: &thanks,
        cancel: &cancel,
    };
    let mut state = DialogueState::default();
    turns
        .iter()
        .map(|s| {
            let out = decide(&state, s, &kb, policy);
            state = out.next;
            out.decision
        })
        .collect()
}

fn reason(d: &Decision) -> Option<HandoffReason> {
    match d {
        Decision::Handoff { reason, .. } => Some(*reason),
        _ => None,
    }
}

#[test]
fn a_clear_best_entry_is_answered() {
    let d = run(&[signals("怎么退", vec![faq("refund", 0.9), faq("refund-late", 0.5)])]);
    assert!(matches!(&d[0], Decision::Answer { faq, .. } if faq == "refund"), "{d:?}");
}

#[test]
fn near_ties_and_middling_scores_clarify() {
    let d = run(&[signals("退", vec![faq("refund", 0.7), faq("refund-late", 0.69)])]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates.len() == 2), "{d:?}");
    let d = run(&[signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.01)])]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates.len() == 1), "{d:?}");
    // Alone (no rival at `clarify_others`) and at least `answer_alone`: answered.
    let d = run(&[signals("退", vec![faq("refund", 0.65), faq("refund-late", 0.01)])]);
    assert!(matches!(&d[0], Decision::Answer { faq, .. } if faq == "refund"), "{d:?}");
    let d = run(&[signals("退", vec![faq("refund", 0.65), faq("refund-late", 0.1)])]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates.len() == 2), "{d:?}");
    // The runner-up below `clarify` but at or above `clarify_others` is offered too.
    let d = run(&[signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.1)])]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates.len() == 2), "{d:?}");
}

#[test]
fn a_choice_by_number_or_question_is_answered() {
    let clarify = signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.49)]);
    let d = run(&[clarify.clone(), signals("2", vec![])]);
    assert!(matches!(&d[1], Decision::Answer { faq, confidence, .. } if faq == "refund-late" && *confidence == 1.0));
    for pick in ["第二个", "选2吧", "就第二个吧", "最后那个", "最后一个。"] {
        let d = run(&[clarify.clone(), signals(pick, vec![])]);
        assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund-late"), "{pick}: {d:?}");
    }
    for pick in ["第一个", "一"] {
        let d = run(&[clarify.clone(), signals(pick, vec![])]);
        assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund"), "{pick}: {d:?}");
    }
    let by_text = Signals { exact: vec!["refund".into()], ..signals("怎么退货", vec![]) };
    let d = run(&[clarify, by_text]);
    assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund"), "{d:?}");
}

#[test]
fn complaints_win_over_requests_for_a_person() {
    let d = run(&[signals("我要投诉，转人工", vec![faq("refund", 0.9)])]);
    assert_eq!(reason(&d[0]), Some(HandoffReason::Complaint));
    let d = run(&[signals("转人工", vec![])]);
    assert_eq!(reason(&d[0]), Some(HandoffReason::HumanRequested));
    let by_model = Signals { complaint_score: Some(0.97), ..signals("等了一周", vec![]) };
    assert_eq!(reason(&run(&[by_model])[0]), Some(HandoffReason::Complaint));
}

#[test]
fn three_stuck_turns_hand_off_even_when_the_candidate_changes() {
    let d = run(&[
        signals("随便", vec![]),
        signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.49)]),
        signals("宽带", vec![faq("refund-late", 0.5)]),
    ]);
    assert_eq!(d[0], Decision::Fallback);
    assert!(matches!(d[1], Decision::Clarify { .. }));
    assert_eq!(reason(&d[2]), Some(HandoffReason::Unresolved), "{d:?}");
}

#[test]
fn a_clarification_about_a_new_question_starts_its_count_afresh() {
    let d = run(&[
        signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.49)]),
        // None of the entries on screen: the customer's next question.
        signals("宽带", vec![faq("cancel", 0.45)]),
        signals("宽带呢", vec![faq("cancel", 0.45)]),
        signals("宽带啊", vec![faq("cancel", 0.45)]),
    ]);
    assert!(matches!(d[1], Decision::Clarify { .. }), "{d:?}");
    assert!(matches!(d[2], Decision::Clarify { .. }), "the new question's second stuck turn: {d:?}");
    assert_eq!(reason(&d[3]), Some(HandoffReason::Unresolved), "its third: {d:?}");
}

#[test]
fn a_second_reading_agreeing_with_the_clarifications_first_choice_is_answered() {
    // Offered first, the customer writes on without picking, and the new message
    // ranks it first again at `answer_confirmed`: answered.
    let d = run(&[
        signals("这个号不用了", vec![faq("refund", 0.62), faq("refund-late", 0.09)]),
        signals("网上能办不", vec![faq("refund", 0.55), faq("refund-late", 0.08)]),
    ]);
    assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund"), "{d:?}");
    // Another first choice, a near tie, or too unsure: offered again.
    for second in [
        vec![faq("refund-late", 0.55), faq("refund", 0.3)],
        vec![faq("refund", 0.55), faq("refund-late", 0.54)],
        vec![faq("refund", 0.4), faq("refund-late", 0.08)],
    ] {
        let d =
            run(&[signals("这个号不用了", vec![faq("refund", 0.62), faq("refund-late", 0.09)]), signals("嗯", second)]);
        assert!(matches!(&d[1], Decision::Clarify { .. }), "{d:?}");
    }
    // The same words again are the same reading, not a second one.
    let mut again = signals("这个号不用了", vec![faq("refund", 0.62), faq("refund-late", 0.09)]);
    again.repeated = true;
    let d = run(&[signals("这个号不用了", vec![faq("refund", 0.62), faq("refund-late", 0.09)]), again]);
    assert!(matches!(&d[1], Decision::Clarify { .. }), "{d:?}");
}

#[test]
fn greetings_and_thanks_neither_count_as_stuck_nor_drop_a_clarification() {
    let d = run(&[
        signals("随便", vec![]),
        signals("你好", vec![]),
        signals("在吗", vec![]),
        signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.49)]),
    ]);
    assert_eq!(d[1], Decision::Pleasantry(Pleasantry::Greeting));
    assert_eq!(d[2], Decision::Pleasantry(Pleasantry::Greeting));
    assert!(matches!(d[3], Decision::Clarify { .. }), "two stuck turns, not four: {d:?}");
    let d = run(&[
        signals("退", vec![faq("refund", 0.5), faq("refund-late", 0.49)]),
        signals("谢谢", vec![]),
        signals("2", vec![]),
    ]);
    assert_eq!(d[1], Decision::Pleasantry(Pleasantry::Thanks));
    assert!(matches!(&d[2], Decision::Answer { faq, .. } if faq == "refund-late"), "{d:?}");
}

#[test]
fn a_text_naming_another_business_is_clarified_not_answered_or_routed() {
    let mut s = signals("淘宝买的怎么退", vec![faq("refund", 0.95), faq("refund-late", 0.1)]);
    s.other_business = Some("淘宝".into());
    let d = run(&[s.clone()]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates[0].0 == "refund"), "{d:?}");
    s.faqs = vec![faq("refund", 0.01)];
    s.intents = vec![intent("order-status", 0.9)];
    assert_eq!(run(&[s])[0], Decision::Fallback);
}

#[test]
fn an_answer_resets_the_streak_and_the_same_answer_to_the_same_question_does_not() {
    let answer = signals("怎么退", vec![faq("refund", 0.9)]);
    let d = run(&[signals("x", vec![]), signals("x", vec![]), answer.clone(), signals("x", vec![])]);
    assert_eq!(d[3], Decision::Fallback);
    let again = Signals { repeated: true, ..answer.clone() };
    let d = run(&[answer.clone(), again.clone(), again.clone()]);
    assert!(matches!(d[1], Decision::Answer { .. }));
    assert!(matches!(d[2], Decision::Answer { .. }), "the first ask and two repeats: {d:?}");
    let d = run(&[answer, again.clone(), again.clone(), again]);
    assert_eq!(reason(&d[3]), Some(HandoffReason::Unresolved));
}

#[test]
fn follow_ups_the_same_entry_answers_are_progress() {
    // "怎么退货" → "要带发票吗" → "运费谁出" → "多久到账", each answered by the one entry.
    let follow_up = signals("运费谁出", vec![faq("refund", 0.9)]);
    let d = run(&[follow_up.clone(), follow_up.clone(), follow_up.clone(), follow_up]);
    assert!(d.iter().all(|d| matches!(d, Decision::Answer { .. })), "{d:?}");
}

#[test]
fn a_follow_up_not_understood_offers_the_problems_entries() {
    let answer = signals("怎么退货", vec![faq("refund", 0.9)]);
    let vague = Signals { offers: vec![faq("refund", 0.1), faq("refund-late", 0.08)], ..signals("那个呢", vec![]) };
    let d = run(&[answer, vague]);
    let Decision::Clarify { candidates, .. } = &d[1] else { panic!("{d:?}") };
    assert_eq!(candidates.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["refund", "refund-late"]);
    assert_eq!(run(&[signals("那个呢", vec![])])[0], Decision::Fallback, "nothing to offer alone");
}

#[test]
fn feedback_counts_as_a_stuck_turn() {
    let state = DialogueState { unresolved: 1, ..DialogueState::default() };
    assert_eq!(not_helpful(&state).unresolved, 2);
}

#[test]
fn flagged_entries_hand_off_with_their_answer() {
    let d = run(&[signals("宽带不要了", vec![faq("cancel", 0.9)])]);
    match &d[0] {
        Decision::Handoff { reason, problem, shown } => {
            assert_eq!(*reason, HandoffReason::EntryFlagged);
            assert_eq!(problem, &Some(Problem::Faq("cancel".into())));
            assert!(shown.as_ref().is_some_and(|(id, ..)| id == "cancel"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_scenario_asks_for_its_slot_then_looks_up() {
    let intent =
        |text: &str| Signals { intents: vec![intent("order-status", 0.9)], ..signals(text, vec![faq("refund", 0.3)]) };
    let number = Signals {
        slots: vec![SlotValue {
            scenario: "order-status".into(),
            slot: "order_id".into(),
            value: "123456789012".into(),
        }],
        ..signals("123456789012", vec![])
    };
    let d = run(&[intent("我的订单呢"), number]);
    assert!(matches!(&d[0], Decision::AskSlot { slot, .. } if slot == "order_id"), "{d:?}");
    assert!(matches!(&d[1], Decision::Lookup { slots, .. } if slots["order_id"] == "123456789012"), "{d:?}");
}

#[test]
fn a_pending_detail_yields_only_to_a_clear_new_question() {
    let pending = Signals { intents: vec![intent("order-status", 0.9)], ..signals("订单", vec![]) };
    let reply = signals("不记得了", vec![faq("refund", 0.9)]);
    let d = run(&[pending.clone(), reply]);
    assert!(matches!(d[1], Decision::AskSlot { .. }), "a short text is the reply: {d:?}");
    let exact = signals("怎么退货", vec![faq("refund", 1.0)]);
    let d = run(&[pending.clone(), exact]);
    assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund"), "{d:?}");
    let question = signals("超过七天还能退货吗", vec![faq("refund-late", 0.95)]);
    let d = run(&[pending, question]);
    assert!(matches!(&d[1], Decision::Answer { faq, .. } if faq == "refund-late"), "{d:?}");
}

#[test]
fn calling_off_a_pending_detail_drops_it_and_is_not_stuck() {
    let pending = Signals { intents: vec![intent("order-status", 0.9)], ..signals("订单", vec![]) };
    let d = run(&[pending, signals("算了 不查了", vec![]), signals("不知道", vec![])]);
    assert_eq!(d[1], Decision::Pleasantry(Pleasantry::Cancel), "{d:?}");
    assert!(!matches!(d[2], Decision::AskSlot { .. }), "nothing pending any more: {d:?}");
    let d = run(&[signals("不查了", vec![])]);
    assert_ne!(d[0], Decision::Pleasantry(Pleasantry::Cancel), "nothing to call off: {d:?}");
    // After an answer the problem is still open: "算了" closes it.
    let d = run(&[signals("怎么退货", vec![faq("refund", 1.0)]), signals("算了", vec![])]);
    assert_eq!(d[1], Decision::Pleasantry(Pleasantry::Cancel), "{d:?}");
}

#[test]
fn a_bare_keyword_two_entries_contain_is_a_tie() {
    let keyword = |text: &str, best: f32| {
        let both = |id: &str, score: f32| FaqCandidate { lexical: 1.0, ..faq(id, score) };
        signals(text, vec![both("refund", best), both("refund-late", 0.3)])
    };
    let d = run(&[keyword("退货", 0.8)]);
    assert!(matches!(&d[0], Decision::Clarify { candidates, .. } if candidates.len() == 2), "{d:?}");
    let d = run(&[keyword("退货", 1.0)]);
    assert!(matches!(&d[0], Decision::Answer { .. }), "one of the entry's questions: {d:?}");
    let d = run(&[keyword("这个退货怎么弄", 0.8)]);
    assert!(matches!(&d[0], Decision::Answer { .. }), "more than a keyword: {d:?}");
}

#[test]
fn asking_for_the_same_detail_three_times_hands_off_to_the_scenario() {
    let pending = Signals { intents: vec![intent("order-status", 0.9)], ..signals("订单", vec![]) };
    let d = run(&[pending, signals("不知道", vec![]), signals("忘了", vec![]), signals("不记得", vec![])]);
    assert!(matches!(d[1], Decision::AskSlot { .. }));
    match &d[3] {
        Decision::Handoff { reason, problem, .. } => {
            assert_eq!(*reason, HandoffReason::Unresolved);
            assert_eq!(problem, &Some(Problem::Scenario("order-status".into())));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_lookup_follows_on_failure() {
    let (kb, t, e) = (kb(), thresholds(), escalation());
    let policy = Policy {
        thresholds: &t,
        escalation: &e,
        agent_desk: false,
        agents_available: true,
        greetings: &[],
        thanks: &[],
        cancel: &[],
    };
    let before = DialogueState::default();
    let order = kb.scenario("order-status").unwrap();
    assert!(matches!(lookup_failed(&before, order, 0.9, policy).decision, Decision::LookupFailed { .. }));
    let services = kb.scenario("my-services").unwrap();
    assert_eq!(reason(&lookup_failed(&before, services, 0.9, policy).decision), Some(HandoffReason::LookupFailed));
}

#[test]
fn a_scenario_for_the_customer_needs_a_login() {
    let s = Signals { intents: vec![intent("my-services", 0.9)], ..signals("我开了啥", vec![]) };
    assert!(matches!(run(std::slice::from_ref(&s))[0], Decision::LoginRequired { .. }));
    let known = Signals { user_known: true, ..s };
    assert!(matches!(run(&[known])[0], Decision::Lookup { .. }));
}

#[test]
fn a_request_to_log_in_offers_the_entries_near_enough() {
    let faqs = vec![faq("a", 0.2), faq("b", 0.01)];
    let s = Signals { intents: vec![intent("my-services", 0.9)], ..signals("彩铃每月扣钱 怎么取消", faqs) };
    match &run(std::slice::from_ref(&s))[0] {
        Decision::LoginRequired { candidates, .. } => assert_eq!(candidates, &vec![(FaqId::from("a"), 0.2)]),
        other => panic!("expected a request to log in, got {other:?}"),
    }
    // … and the first is picked by its number, as from a clarification.
    let pick = signals("1", vec![]);
    match &run(&[s, pick])[1] {
        Decision::Answer { faq, .. } => assert_eq!(faq, &FaqId::from("a")),
        other => panic!("expected the picked entry, got {other:?}"),
    }
}

#[test]
fn a_login_scenario_picked_from_a_clarification_offers_nothing_of_the_pick() {
    let clarify = Signals {
        intents: vec![intent("my-services", 0.25)],
        ..signals("彩铃", vec![faq("refund", 0.5), faq("refund-late", 0.3)])
    };
    // "3" picks the scenario; what "3" itself ranks is no entry worth offering.
    let pick = signals("3", vec![faq("refund-late", 0.2)]);
    let d = run(&[clarify.clone(), pick.clone()]);
    match &d[1] {
        Decision::LoginRequired { candidates, .. } => assert!(candidates.is_empty(), "{d:?}"),
        other => panic!("expected a request to log in, got {other:?}"),
    }
    // … and the clarification's choices are gone with it.
    let d = run(&[clarify, pick, signals("1", vec![])]);
    assert!(!matches!(&d[2], Decision::Answer { .. }), "{d:?}");
}

#[test]
fn a_half_sure_scenario_is_offered_after_the_entries_and_can_be_picked() {
    let clarify = Signals {
        intents: vec![intent("order-status", 0.25)],
        ..signals("东西发出来没", vec![faq("refund", 0.5), faq("refund-late", 0.3)])
    };
    let d = run(std::slice::from_ref(&clarify));
    let offered = Some(("order-status".into(), 0.25));
    assert!(
        matches!(&d[0], Decision::Clarify { candidates, scenario } if candidates.len() == 2 && *scenario == offered)
    );
    // The last number is the scenario: it asks for its detail.
    let d = run(&[clarify.clone(), signals("3", vec![])]);
    assert!(matches!(&d[1], Decision::AskSlot { scenario, .. } if scenario == "order-status"), "{d:?}");
    // So is its title, as the widget's button sends it, or typed with punctuation.
    for title in ["我的订单到哪了", "我的订单到哪了？"] {
        let d = run(&[clarify.clone(), signals(title, vec![])]);
        assert!(matches!(&d[1], Decision::AskSlot { scenario, .. } if scenario == "order-status"), "{d:?}");
    }
    // A fallback in between withdraws the choices.
    let d = run(&[clarify.clone(), signals("今天天气", vec![]), signals("3", vec![])]);
    assert!(!matches!(&d[2], Decision::AskSlot { .. }), "{d:?}");
    // A number past the choices picks nothing.
    let d = run(&[clarify, signals("4", vec![])]);
    assert!(!matches!(&d[1], Decision::AskSlot { .. }), "{d:?}");
}

#[test]
fn a_scenario_is_never_offered_alone_nor_below_the_clarify_threshold() {
    let alone = Signals { intents: vec![intent("order-status", 0.25)], ..signals("订一张机票", vec![]) };
    assert_eq!(run(&[alone]), [Decision::Fallback]);
    let weak = Signals { intents: vec![intent("order-status", 0.1)], ..signals("退", vec![faq("refund", 0.5)]) };
    assert!(matches!(&run(&[weak])[0], Decision::Clarify { scenario: None, .. }));
}

#[test]
fn the_model_is_skipped_only_where_it_cannot_change_the_decision() {
    use crate::dialogue::shortcut::{Shortcut, without_model};
    let (kb, t, e) = (kb(), thresholds(), escalation());
    let thanks = ["谢谢".to_owned()];
    let cancel = ["不查了".to_owned()];
    let policy = Policy {
        thresholds: &t,
        escalation: &e,
        agent_desk: false,
        agents_available: true,
        greetings: &[],
        thanks: &thanks,
        cancel: &cancel,
    };
    let choice = DialogueState {
        pending: Pending::Choice { faqs: vec!["refund".into(), "refund-late".into()], scenario: None },
        ..DialogueState::default()
    };
    let slot = DialogueState {
        pending: Pending::Slot { scenario: "order-status".into(), filled: BTreeMap::new() },
        ..DialogueState::default()
    };
    let order = |text: &str| Signals {
        slots: vec![SlotValue {
            scenario: "order-status".into(),
            slot: "order_id".into(),
            value: "123456789012".into(),
        }],
        ..signals(text, vec![])
    };
    let exact = Signals { exact: vec!["refund".into()], ..signals("怎么退货", vec![]) };
    let fresh = DialogueState::default();
    let skip = |state: &DialogueState, s: &Signals| without_model(state, s, &kb, policy, false);
    assert_eq!(skip(&choice, &signals("第二个", vec![])), Some(Shortcut::Pick));
    assert_eq!(skip(&choice, &signals("452120231108", vec![])), None, "an order number, not a pick");
    assert_eq!(skip(&choice, &signals("第二个 我要投诉", vec![])), None, "complaints take the whole path");
    assert_eq!(skip(&slot, &order("123456789012")), Some(Shortcut::Detail));
    assert_eq!(skip(&slot, &order("订单号123456789012")), Some(Shortcut::Detail));
    assert_eq!(skip(&slot, &order("123456789012 这个到底什么时候到啊")), None, "more than the detail");
    assert_eq!(skip(&slot, &signals("不查了", vec![])), Some(Shortcut::Pleasantry));
    assert_eq!(skip(&fresh, &signals("不查了", vec![])), None, "nothing to call off");
    assert_eq!(skip(&fresh, &signals("谢谢", vec![])), Some(Shortcut::Pleasantry));
    assert_eq!(skip(&fresh, &exact), Some(Shortcut::Exact));
    assert_eq!(without_model(&fresh, &exact, &kb, policy, true), None, "a scenario's example too");
    assert_eq!(skip(&slot, &exact), None, "a detail is pending");
    assert_eq!(skip(&fresh, &signals("宽带怎么装", vec![])), None);
    let held = DialogueState { with_agent: true, ..DialogueState::default() };
    assert_eq!(skip(&held, &signals("宽带怎么装", vec![])), Some(Shortcut::WithAgent));
    // The shortcut's signals decide as the whole path would: the exact entry answered.
    let d = decide(&fresh, &crate::dialogue::shortcut::signals(exact), &kb, policy).decision;
    assert!(matches!(&d, Decision::Answer { faq, confidence, .. } if faq == "refund" && *confidence == 1.0), "{d:?}");
}
