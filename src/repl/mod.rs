//! The interactive SQL session: line editing and history on a terminal, statements from stdin otherwise.
//!
//! [`session`] runs statements and [`command`]s; [`helper`] edits lines (completion from
//! [`complete`], statements complete at `;` per [`statements`]); [`results`] prints rows.

pub mod command;
pub mod complete;
pub mod describe;
pub mod error;
pub mod helper;
pub mod results;
pub mod saved;
pub mod session;
pub mod statements;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

pub use command::{Control, MetaCommand};
pub use error::ReplError;
pub use results::Limits;
pub use session::Session;

use helper::ReplHelper;
use statements::{StatementBuffer, is_blank};

use crate::query::PrintFormat;

const PROMPT: &str = "auditlake> ";

/// How a REPL starts.
#[derive(Debug, Clone, Default)]
pub struct ReplConfig {
    pub format: PrintFormat,
    pub limits: Limits,
    /// Printed first (the demo's suggestions).
    pub banner: Option<String>,
    /// The history file; `None` takes [`history_file`].
    pub history: Option<PathBuf>,
}

/// `$XDG_STATE_HOME/auditlake/history` (`~/.local/state/auditlake/history`).
pub fn history_file() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .map(|dir| dir.join("auditlake").join("history"))
}

/// Runs the REPL over the store at `root`: interactive when stdin is a terminal, else the
/// statements of stdin in turn. Returns the number of statements and commands that failed.
pub async fn run(root: &Path, config: ReplConfig) -> Result<usize, ReplError> {
    let mut session = Session::open(root).await?;
    session.format = config.format;
    session.limits = config.limits;
    if let Some(banner) = &config.banner {
        println!("{banner}");
    }
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        session.cancel_on_ctrl_c = true;
        let history = config.history.clone().or_else(history_file);
        interact(&mut session, history.as_deref()).await?;
    } else {
        run_stdin(&mut session).await?;
    }
    session.close()?;
    Ok(session.errors)
}

/// Reads stdin line by line, running each statement once its `;` arrives.
async fn run_stdin(session: &mut Session) -> Result<(), ReplError> {
    let mut buffer = StatementBuffer::default();
    for line in std::io::stdin().lock().lines() {
        for input in buffer.push_line(&line?) {
            if session.run_input(input).await == Control::Quit {
                return Ok(());
            }
        }
    }
    if let Some(input) = buffer.finish() {
        session.run_input(input).await;
    }
    Ok(())
}

async fn interact(session: &mut Session, history: Option<&Path>) -> Result<(), ReplError> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .max_history_size(10_000)?
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper::new(session.vocabulary()?)));
    if let Some(path) = history {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ReplError::file("create", dir, e))?;
        }
        // A first session has no history yet.
        let _ = editor.load_history(path);
    }
    eprintln!(
        "auditlake SQL over {} event data store(s). \\? lists the commands; \\q or Ctrl-D leaves.",
        session.store_count()
    );
    loop {
        let text = match editor.readline(PROMPT) {
            Ok(text) => text,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if is_blank(&text) {
            continue;
        }
        editor.add_history_entry(text.trim())?;
        if let Some(path) = history
            && let Err(e) = editor.append_history(path)
        {
            eprintln!(
                "warning: cannot save the history to {}: {e}",
                path.display()
            );
        }
        if session.run_text(&text).await == Control::Quit {
            return Ok(());
        }
    }
}
