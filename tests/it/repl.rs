//! The REPL as a user meets it: statements from stdin, and a terminal (a pseudo-terminal
//! made by util-linux `script`) for completion, Ctrl-C and history.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Fixture, ndjson, stdout};

/// A fixture holding `n` events of 2026, the year the saved queries look at.
fn filled(n: usize) -> Fixture {
    let fx = Fixture::with_retention(Some(3653));
    let file = ndjson(fx.path(), "events.ndjson", n, "2026-03-01T10:00:00Z");
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &fx.channel_arn])
            .arg(&file),
    );
    fx
}

fn run_stdin(fx: &Fixture, script: &str) -> std::process::Output {
    fx.cmd()
        .env("XDG_STATE_HOME", fx.path())
        .write_stdin(script.to_string())
        .output()
        .unwrap()
}

#[test]
fn statements_from_stdin_run_in_turn_and_an_error_does_not_stop_them() {
    let fx = filled(3);
    let script = format!(
        "-- a comment\nSELECT count(*) AS n\n  FROM {id};\nSELECT nope FROM {id};\n\
         \\format csv\nSELECT eventData.UID FROM {id} ORDER BY 1; SELECT 'a;b' AS s;\n",
        id = fx.eds_id
    );
    let out = run_stdin(&fx, &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed statement fails the run"
    );
    assert!(text.contains("| 3 |"), "{text}");
    assert!(err.contains("error:") && err.contains("nope"), "{err}");
    assert!(
        text.contains("uid\nevents.ndjson-0\nevents.ndjson-1\nevents.ndjson-2\n"),
        "{text}"
    );
    assert!(
        text.contains("s\na;b\n"),
        "a ; inside quotes ends nothing: {text}"
    );
    assert!(err.contains("3 rows") || err.contains("rows: 3"), "{err}");
}

#[test]
fn meta_commands_describe_stores_and_run_saved_queries() {
    let fx = filled(2);
    let out = run_stdin(
        &fx,
        "\\?\n\\d\n\\d app-events\n\\saved\n\\run top-event-names\n\\timing\n\\q\nSELECT 1;\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for command in [
        "\\d", "\\timing", "\\format", "\\o", "\\i", "\\saved", "\\run", "\\q",
    ] {
        assert!(text.contains(command), "\\? lists {command}: {text}");
    }
    assert!(
        text.contains("app-events") && text.contains(&fx.eds_id),
        "{text}"
    );
    assert!(
        text.contains("useridentity") && text.contains("principalid"),
        "{text}"
    );
    assert!(text.contains("top-event-names"), "{text}");
    assert!(text.contains("Login"), "the saved query ran: {text}");
    assert!(!text.contains("| 1 |"), "\\q ends the session: {text}");
}

#[test]
fn output_files_and_includes() {
    let fx = filled(2);
    let include = fx.path().join("more.sql");
    std::fs::write(&include, "SELECT 'included' AS what;\n").unwrap();
    let result = fx.path().join("out.csv");
    let script = format!(
        "\\format csv\n\\o {}\nSELECT count(*) AS n FROM app-events;\n\\o\n\\i {}\n",
        result.display(),
        include.display()
    );
    let out = run_stdin(&fx, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&result).unwrap(), "n\n2\n");
    assert!(String::from_utf8_lossy(&out.stdout).contains("included"));
}

/// The REPL on a pseudo-terminal, fed keystrokes; what it prints is collected.
struct Terminal {
    child: Child,
    input: ChildStdin,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    /// `None` (with a message) where util-linux `script` is missing.
    fn open(store: &Path, state: &Path) -> Option<Terminal> {
        if Command::new("script").arg("--version").output().is_err() {
            println!("skipped: util-linux `script` is not installed");
            return None;
        }
        let bin = assert_cmd::cargo::cargo_bin("auditlake");
        let command = format!("{} --store {}", bin.display(), store.display());
        let mut child = Command::new("script")
            .args(["-q", "-e", "-f", "-c", &command, "/dev/null"])
            .env("TERM", "xterm")
            .env("XDG_STATE_HOME", state)
            .env_remove("AUDITLAKE_STORE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Some(Terminal {
            child,
            input,
            screen,
        })
    }

    fn send(&mut self, keys: &str) {
        self.input.write_all(keys.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Waits until the screen shows `text` after byte `from`; returns where it ends.
    fn expect(&self, text: &str, from: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let screen = self.screen.lock().unwrap();
                if let Some(at) = screen.get(from..).and_then(|s| s.find(text)) {
                    return from + at + text.len();
                }
                if Instant::now() > deadline {
                    panic!("the terminal never showed {text:?}; it shows:\n{screen}");
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn len(&self) -> usize {
        self.screen.lock().unwrap().len()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_terminal_session_completes_cancels_and_keeps_history() {
    let fx = filled(2);
    let state = tempfile::tempdir().unwrap();
    let Some(mut term) = Terminal::open(fx.path(), state.path()) else {
        return;
    };
    let at = term.expect("auditlake> ", 0);

    // Column paths complete at any depth from the store's schema.
    term.send("SELECT eventdata.useridentity.pr\t");
    let at = term.expect("principalid", at);
    term.send(" FROM app-ev\t");
    let at = term.expect("app-events", at);
    term.send(" LIMIT 1;\r");
    let at = term.expect("alice", at);
    let at = term.expect("auditlake> ", at);

    // Ctrl-C stops a running query and the session goes on.
    term.send("SELECT count(*) FROM range(100000000000) a CROSS JOIN range(10) b;\r");
    std::thread::sleep(Duration::from_secs(2));
    term.send("\x03");
    let at = term.expect("cancel", at);
    let at = term.expect("auditlake> ", at);
    term.send("SELECT 40 + 2 AS answer;\r");
    let at = term.expect("42", at);

    // An error prints and the session goes on; Ctrl-D leaves.
    term.send("SELEC oops;\r");
    let at = term.expect("error", at);
    term.expect("auditlake> ", at);
    term.send("\x04");
    let status = wait(&mut term.child);
    assert!(status.is_some(), "Ctrl-D ends the REPL");
    let _ = term.len();

    let history = std::fs::read_to_string(state.path().join("auditlake").join("history")).unwrap();
    assert!(history.contains("SELECT 40 + 2 AS answer;"), "{history}");
}

fn wait(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
