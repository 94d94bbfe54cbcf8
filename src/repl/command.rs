//! Meta-commands (`\d`, `\format csv`, `\run NAME`, ...): parsing, and the table that drives `\?`.

use std::path::PathBuf;
use std::str::FromStr;

use crate::query::PrintFormat;

/// A line starting with `\`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    Help,
    Quit,
    /// `\d`: every event data store; `\d STORE`: one store's schema.
    Describe(Option<String>),
    Timing,
    Format(PrintFormat),
    /// `\o FILE` sends results to a file; `\o` alone back to the terminal.
    Output(Option<PathBuf>),
    Include(PathBuf),
    Saved,
    Run {
        name: String,
        params: Vec<(String, String)>,
    },
}

/// What the session does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Quit,
}

/// One row of the help table: the command's name, its arguments, and what it does.
pub struct CommandSpec {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
}

/// Every meta-command, in the order `\?` lists them.
#[rustfmt::skip] // a table: one command a line reads best
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "\\?", args: "", help: "list these commands" },
    CommandSpec { name: "\\d", args: "[STORE]", help: "list event data stores (name, ID, category, events, time range, size); with STORE, its schema as a tree" },
    CommandSpec { name: "\\timing", args: "", help: "turn the figures after each query (rows, time, events and bytes scanned) off or on" },
    CommandSpec { name: "\\format", args: "table|csv|json|ndjson", help: "how results are printed (table rows are limited and long values cut; the others are complete)" },
    CommandSpec { name: "\\o", args: "[FILE]", help: "write results to FILE; without FILE, back to the terminal" },
    CommandSpec { name: "\\i", args: "FILE", help: "run the statements and commands in FILE" },
    CommandSpec { name: "\\saved", args: "", help: "list saved queries (queries/ and the user's query directory)" },
    CommandSpec { name: "\\run", args: "NAME [key=value ...]", help: "run a saved query with its ${key} parameters filled (eds defaults to the only store)" },
    CommandSpec { name: "\\q", args: "", help: "leave (Ctrl-D does too)" },
];

/// The help text: one line per command, aligned.
pub fn help() -> String {
    let width = COMMANDS
        .iter()
        .map(|c| c.name.len() + c.args.len() + 1)
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for c in COMMANDS {
        let usage = format!("{} {}", c.name, c.args);
        text.push_str(&format!("  {usage:width$}  {}\n", c.help));
    }
    text.push_str(
        "  SQL statements end with `;` and may span lines. Ctrl-C cancels a running query.\n",
    );
    text
}

fn usage(name: &str) -> String {
    let spec = COMMANDS.iter().find(|c| c.name == name);
    match spec {
        Some(c) => format!("usage: {} {}", c.name, c.args)
            .trim_end()
            .to_string(),
        None => format!("unknown command {name}; \\? lists the commands"),
    }
}

impl FromStr for MetaCommand {
    type Err = String;

    fn from_str(line: &str) -> Result<MetaCommand, String> {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default();
        let args: Vec<&str> = words.collect();
        let no_args = |command: MetaCommand| match args.is_empty() {
            true => Ok(command.clone()),
            false => Err(usage(name)),
        };
        match (name, args.as_slice()) {
            ("\\?" | "\\h" | "\\help", _) => no_args(MetaCommand::Help),
            ("\\q" | "\\quit", _) => no_args(MetaCommand::Quit),
            ("\\d", []) => Ok(MetaCommand::Describe(None)),
            ("\\d", [store]) => Ok(MetaCommand::Describe(Some(store.to_string()))),
            ("\\timing", _) => no_args(MetaCommand::Timing),
            ("\\format", [format]) => format.parse().map(MetaCommand::Format),
            ("\\o", []) => Ok(MetaCommand::Output(None)),
            ("\\o", [file]) => Ok(MetaCommand::Output(Some(PathBuf::from(file)))),
            ("\\i", [file]) => Ok(MetaCommand::Include(PathBuf::from(file))),
            ("\\saved", _) => no_args(MetaCommand::Saved),
            ("\\run", [name, params @ ..]) => {
                let params = params
                    .iter()
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                        _ => Err(format!("{p:?} is not key=value; {}", usage("\\run"))),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(MetaCommand::Run {
                    name: name.to_string(),
                    params,
                })
            }
            _ => Err(usage(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_arguments() {
        assert_eq!("\\d".parse(), Ok(MetaCommand::Describe(None)));
        assert_eq!(
            "\\d  my-events ".parse(),
            Ok(MetaCommand::Describe(Some("my-events".into())))
        );
        assert_eq!(
            "\\format CSV".parse(),
            Ok(MetaCommand::Format(PrintFormat::Csv))
        );
        assert_eq!("\\o".parse(), Ok(MetaCommand::Output(None)));
        assert_eq!(
            "\\run top eds=abc day=2026-01-01".parse(),
            Ok(MetaCommand::Run {
                name: "top".into(),
                params: vec![
                    ("eds".into(), "abc".into()),
                    ("day".into(), "2026-01-01".into())
                ],
            })
        );
    }

    #[test]
    fn mistakes_say_how_to_use_the_command() {
        assert_eq!("\\i".parse::<MetaCommand>(), Err("usage: \\i FILE".into()));
        assert!(
            "\\format xml"
                .parse::<MetaCommand>()
                .unwrap_err()
                .contains("csv")
        );
        assert!(
            "\\run x y"
                .parse::<MetaCommand>()
                .unwrap_err()
                .contains("key=value")
        );
        assert!("\\zz".parse::<MetaCommand>().unwrap_err().contains("\\?"));
        assert!("\\q now".parse::<MetaCommand>().is_err());
    }

    #[test]
    fn help_lists_every_command_of_the_table() {
        let text = help();
        for c in COMMANDS {
            assert!(text.contains(c.name) && text.contains(c.help), "{}", c.name);
        }
    }
}
