//! One REPL session: its settings, and running statements and meta-commands against the engine.

use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use super::command::{Control, MetaCommand, help};
use super::complete::Vocabulary;
use super::error::{ReplError, describe};
use super::results::{Limits, run_query};
use super::statements::{Input, split};
use super::{describe as show, saved};
use crate::catalog::Catalog;
use crate::event::schema::schema_for;
use crate::query::{PrintFormat, QueryEngine};

/// `\i` files may include others, this deep.
const MAX_INCLUDE_DEPTH: usize = 16;

/// A session over one store root: the engine and the user's settings.
pub struct Session {
    root: PathBuf,
    engine: QueryEngine,
    pub format: PrintFormat,
    pub timing: bool,
    pub limits: Limits,
    /// `\o FILE`: where results go instead of stdout.
    output: Option<(PathBuf, BufWriter<File>)>,
    query_dirs: Vec<PathBuf>,
    /// Ctrl-C cancels a running query (else the default: the process ends).
    pub cancel_on_ctrl_c: bool,
    depth: usize,
    /// Statements and commands that failed.
    pub errors: usize,
}

impl Session {
    pub async fn open(root: &Path) -> Result<Session, ReplError> {
        Ok(Session {
            root: root.to_path_buf(),
            engine: QueryEngine::open(root).await?,
            format: PrintFormat::Table,
            timing: true,
            limits: Limits::default(),
            output: None,
            query_dirs: saved::query_dirs(),
            cancel_on_ctrl_c: false,
            depth: 0,
            errors: 0,
        })
    }

    /// The event data stores queries may name.
    pub fn store_count(&self) -> usize {
        self.engine.stores().len()
    }

    /// Words for completion: functions of this session, stores, schemas, saved queries.
    pub fn vocabulary(&self) -> Result<Vocabulary, ReplError> {
        let state = self.engine.context().state();
        let mut functions: Vec<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .cloned()
            .collect();
        functions.sort();
        functions.dedup();
        let catalog = Catalog::load(&self.root)?;
        let mut schemas = Vec::new();
        let mut stores = Vec::new();
        for eds in &catalog.event_data_stores {
            let schema = schema_for(eds.category());
            if !schemas.iter().any(|s| std::sync::Arc::ptr_eq(s, &schema)) {
                schemas.push(schema);
            }
            stores.push(eds.name.clone());
            stores.push(eds.id().to_string());
        }
        if schemas.is_empty() {
            schemas.push(schema_for(crate::catalog::EventCategory::ActivityAuditLog));
        }
        let saved = saved::list(&self.query_dirs)
            .into_iter()
            .map(|q| q.name)
            .collect();
        Ok(Vocabulary {
            functions,
            stores,
            schemas,
            saved,
        })
    }

    /// Runs everything in `text` in turn; an error is reported and the rest still runs.
    pub fn run_text<'a>(
        &'a mut self,
        text: &'a str,
    ) -> Pin<Box<dyn Future<Output = Control> + 'a>> {
        Box::pin(async move {
            for input in split(text) {
                if self.run_input(input).await == Control::Quit {
                    return Control::Quit;
                }
            }
            Control::Continue
        })
    }

    /// Runs one statement or meta-command, reporting its error on stderr.
    pub async fn run_input(&mut self, input: Input) -> Control {
        let result = match input {
            Input::Meta(line) => match line.parse::<MetaCommand>() {
                Ok(command) => self.run_command(command).await,
                Err(usage) => Err(ReplError::Usage(usage)),
            },
            Input::Sql(sql) => self.run_sql(&sql, &[]).await.map(|()| Control::Continue),
        };
        result.unwrap_or_else(|e| {
            self.errors += 1;
            eprintln!("error: {}", describe(&e));
            Control::Continue
        })
    }

    async fn run_command(&mut self, command: MetaCommand) -> Result<Control, ReplError> {
        let say = |text: &str| -> Result<(), ReplError> {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            Ok(out.flush()?)
        };
        match command {
            MetaCommand::Help => say(&help())?,
            MetaCommand::Quit => return Ok(Control::Quit),
            MetaCommand::Describe(None) => say(&show::stores(&self.root)?)?,
            MetaCommand::Describe(Some(store)) => say(&show::schema(&self.root, &store)?)?,
            MetaCommand::Timing => {
                self.timing = !self.timing;
                eprintln!("timing is {}", if self.timing { "on" } else { "off" });
            }
            MetaCommand::Format(format) => {
                self.format = format;
                eprintln!("results are printed as {format}");
            }
            MetaCommand::Output(path) => self.set_output(path)?,
            MetaCommand::Include(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ReplError::file("read", &path, e))?;
                if self.depth >= MAX_INCLUDE_DEPTH {
                    return Err(ReplError::Usage(format!(
                        "\\i {}: files include each other more than {MAX_INCLUDE_DEPTH} deep",
                        path.display()
                    )));
                }
                self.depth += 1;
                let control = self.run_text(&text).await;
                self.depth -= 1;
                return Ok(control);
            }
            MetaCommand::Saved => say(&saved::describe(&self.query_dirs))?,
            MetaCommand::Run { name, mut params } => {
                let (query, sql) = saved::load(&self.query_dirs, &name)?;
                if !params.iter().any(|(k, _)| k.eq_ignore_ascii_case("eds"))
                    && let [only] = self.engine.stores()
                {
                    params.push(("eds".to_string(), only.id.clone()));
                }
                eprintln!("-- {} ({})", query.title, query.path.display());
                self.run_sql(&sql, &params).await?;
            }
        }
        Ok(Control::Continue)
    }

    fn set_output(&mut self, path: Option<PathBuf>) -> Result<(), ReplError> {
        if let Some((old, mut file)) = self.output.take() {
            file.flush()
                .map_err(|e| ReplError::file("write", &old, e))?;
        }
        match path {
            Some(path) => {
                let file = File::create(&path).map_err(|e| ReplError::file("create", &path, e))?;
                eprintln!("results go to {}", path.display());
                self.output = Some((path, BufWriter::new(file)));
            }
            None => eprintln!("results go to the terminal"),
        }
        Ok(())
    }

    /// Runs one query; with `cancel_on_ctrl_c`, Ctrl-C stops it and the session goes on.
    pub async fn run_sql(
        &mut self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<(), ReplError> {
        let mut stdout = std::io::stdout().lock();
        let out: &mut dyn Write = match &mut self.output {
            Some((_, file)) => file,
            None => &mut stdout,
        };
        let query = run_query(&self.engine, sql, params, self.format, self.limits, out);
        let outcome = match self.cancel_on_ctrl_c {
            true => tokio::select! {
                outcome = query => outcome?,
                _ = tokio::signal::ctrl_c() => return Err(ReplError::Cancelled),
            },
            false => query.await?,
        };
        drop(stdout);
        if outcome.limited {
            eprintln!(
                "(only the first {} rows are shown; for all of them: \\format csv and \\o FILE, or add a LIMIT)",
                self.limits.max_rows
            );
        }
        if self.timing {
            eprintln!("{}", outcome.stats);
        }
        Ok(())
    }

    /// Flushes a `\o` file at the end of the session.
    pub fn close(&mut self) -> Result<(), ReplError> {
        match self.output.take() {
            Some((path, mut file)) => file.flush().map_err(|e| ReplError::file("write", &path, e)),
            None => Ok(()),
        }
    }
}
