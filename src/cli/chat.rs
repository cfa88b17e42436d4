//! `bizbot chat`: an interactive session in the terminal (one customer).
//! `/good` and `/bad` rate the last answer; `/quit` (or end of input) leaves. Turns
//! are written to the turn log like HTTP turns (channel `terminal`).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use bizbot::Config;
use bizbot::dialogue::UserInfo;
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct ChatArgs {
    /// Customer id for scenario lookups (e.g. u1001 with the demo back-end).
    #[arg(long)]
    user: Option<String>,
}

pub(crate) fn run(
    config: Config,
    config_path: Option<std::path::PathBuf>,
    args: &ChatArgs,
) -> anyhow::Result<ExitCode> {
    let max_chars = config.server.max_text_chars;
    let mut config = config;
    // No agent can reach a terminal: after a hand-off the bot answers on.
    config.desk.live_agents = false;
    let bot = match super::start_bot(config, config_path, Default::default())? {
        Ok(bot) => bot,
        Err(code) => return Ok(code),
    };
    let user = UserInfo { id: args.user.clone(), ..UserInfo::default() };
    let session = "terminal";
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    let mut last_turn = 0;
    println!("bizbot chat — /good, /bad rate the last answer, /quit leaves");
    loop {
        print!("> ");
        out.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim();
        match text {
            "" => continue,
            "/quit" | "/exit" => break,
            "/good" | "/bad" => {
                bot.feedback(session, last_turn, text == "/good");
                println!("(feedback noted)");
                continue;
            }
            _ if text.chars().count() > max_chars => {
                println!("(too long: at most {max_chars} characters)");
                continue;
            }
            _ => {}
        }
        let reply = bot.reply(session, text, &user, Some("terminal"))?;
        last_turn = reply.turn;
        println!("[{}] {}", reply.action.as_str(), reply.text);
        for a in &reply.actions {
            println!("  [{}] {}", a.label, a.url);
        }
        if !reply.related.is_empty() {
            let related: Vec<&str> = reply.related.iter().map(|r| r.question.as_str()).collect();
            println!("  猜您可能还想了解：{}", related.join(" / "));
        }
        if let Some(h) = &reply.handoff {
            println!("  → 转人工: reason {}, queue {}", h.reason.as_str(), h.queue);
        }
    }
    Ok(ExitCode::SUCCESS)
}
