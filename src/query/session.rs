//! The DataFusion session over a store: one retention-filtered table per event data store, Lake SQL in, batches out.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::config::Dialect;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider, ViewTable, provider_as_source};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;

use super::error::QueryError;
use super::functions;
use super::guard::{check_read_only, refuse_unparsed};
use super::hints;
use super::names::name_columns;
use super::narrow::NarrowNestedReads;
use super::output::{PrintFormat, ResultWriter};
use super::rewrite::{
    StoreRef, known_stores, rewrite_field_access_marked, rewrite_table_refs, substitute_params,
};
use super::stats::QueryStats;
use super::view_groups::GroupByViews;
use super::view_strings::{ViewScan, file_scans, view_schema};

const DAY_MS: i64 = 86_400_000;

/// One event data store as the engine registers it.
#[derive(Debug, Clone)]
pub struct StoreTable {
    pub store: StoreRef,
    /// The record schema; `None` reads it from the first file.
    pub schema: Option<SchemaRef>,
    /// Events older than this many days are never returned.
    pub retention_days: u32,
    /// The committed Parquet files (absolute paths).
    pub files: Vec<PathBuf>,
    /// The oldest eventtime in the files (ms), when known: if it is within retention, the
    /// retention filter is left out of every scan.
    pub oldest_event_ms: Option<i64>,
}

/// A DataFusion session that answers Lake SQL over a fixed snapshot of event data stores.
pub struct QueryEngine {
    ctx: SessionContext,
    stores: Vec<StoreRef>,
}

/// Session settings: lower-cased identifiers, and filters pushed into the Parquet scan
/// (row-group statistics and page index; row filters where they pay, see `row_filters`).
pub fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(false);
    let options = config.options_mut();
    options.sql_parser.enable_ident_normalization = true;
    options.sql_parser.dialect = Dialect::Generic;
    let parquet = &mut options.execution.parquet;
    parquet.pruning = true;
    parquet.enable_page_index = true;
    // Row filters are turned on per scan, for filters that look up values (`row_filters`).
    parquet.pushdown_filters = false;
    // Strings are read as views by the tables themselves, nested ones included
    // (`view_strings`); DataFusion's switch would reach only top-level columns.
    parquet.schema_force_view_types = false;
    config
}

/// A session with [`session_config`] and the rule that narrows nested reads
/// ([`super::narrow`]), which must run before DataFusion pushes projections into the scan.
pub fn session_context() -> SessionContext {
    let mut rules = PhysicalOptimizer::new().rules;
    // After filters went into the scan (the projection then sits right above it).
    let at = rules
        .iter()
        .position(|r| r.name() == "ProjectionPushdown")
        .unwrap_or(0);
    rules.insert(at, Arc::new(NarrowNestedReads));
    // Last before the final check, once DataFusion's rules have shaped the aggregates.
    let at = rules
        .iter()
        .position(|r| r.name() == "SanityCheckPlan")
        .unwrap_or(rules.len());
    rules.insert(at, Arc::new(GroupByViews));
    let state = SessionStateBuilder::new()
        .with_config(session_config())
        .with_default_features()
        .with_physical_optimizer_rules(rules)
        .build();
    SessionContext::new_with_state(state)
}

impl QueryEngine {
    /// Registers `tables` under their IDs; `now_ms` dates the retention cut-off.
    pub async fn new(tables: Vec<StoreTable>, now_ms: i64) -> Result<QueryEngine, QueryError> {
        let ctx = session_context();
        functions::register(&ctx);
        let mut stores = Vec::with_capacity(tables.len());
        for table in tables {
            if table.store.unavailable.is_none() {
                let provider = retained(&ctx.state(), &table, now_ms).await?;
                ctx.register_table(TableReference::bare(table.store.id.as_str()), provider)?;
            }
            stores.push(table.store);
        }
        Ok(QueryEngine { ctx, stores })
    }

    /// The event data stores queries may name.
    pub fn stores(&self) -> &[StoreRef] {
        &self.stores
    }

    /// The underlying session, for callers that need DataFusion directly (the REPL's completer).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Lake SQL to the SQL DataFusion runs: parameters filled, stores named by their quoted ID,
    /// `f(x).field` as `f(x)['field']`; with where each `'field'` so written starts.
    fn prepare(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<(String, Vec<(u64, u64)>), QueryError> {
        let sql = substitute_params(sql, params)?;
        let sql = rewrite_table_refs(&sql, &self.stores)?;
        Ok(rewrite_field_access_marked(&sql))
    }

    /// Prepares, parses, checks (SELECT only) and plans one statement.
    pub async fn logical_plan(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<LogicalPlan, QueryError> {
        let lake_sql = sql;
        let (sql, field_accesses) = self.prepare(sql, params)?;
        let state = self.ctx.state();
        let mut statement = state
            .sql_to_statement(&sql, &Dialect::Generic)
            .map_err(|e| refuse_unparsed(&sql).unwrap_or_else(|| e.into()))?;
        check_read_only(&statement)?;
        name_columns(&mut statement, &field_accesses);
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            Err(e) => return Err(self.planning_error(lake_sql, e).await),
        };
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)?;
        Ok(plan)
    }

    /// Planning errors said for a Lake user: DataFusion's "table 'datafusion.public.x' not
    /// found" lists the stores there are; "Field x not found in struct" names the path in
    /// `lake_sql` and the fields its struct has. Other errors pass unchanged.
    async fn planning_error(&self, lake_sql: &str, e: DataFusionError) -> QueryError {
        let DataFusionError::Plan(message) = e.find_root() else {
            return e.into();
        };
        if let Some(name) = message
            .strip_prefix("table '")
            .and_then(|rest| rest.strip_suffix("' not found"))
        {
            let given = name.strip_prefix("datafusion.public.").unwrap_or(name);
            let mut known = known_stores(&self.stores);
            let journal = crate::replay::journal::TABLE_NAME;
            if self.ctx.table_exist(journal).unwrap_or(false) {
                known.push_str(&format!("; and the table {journal}"));
            }
            return QueryError::UnknownTable {
                given: given.to_string(),
                known,
            };
        }
        if let Some(missing) = hints::missing_field(message) {
            let mut schemas = Vec::new();
            for store in self.stores.iter().filter(|s| s.unavailable.is_none()) {
                if let Ok(table) = self.ctx.table_provider(store.id.as_str()).await {
                    schemas.push(table.schema());
                }
            }
            if let Some(hint) = hints::missing_field_hint(lake_sql, missing, &schemas) {
                return QueryError::Plan(hint);
            }
        }
        e.into()
    }

    /// Runs `sql` and prints its rows to `out` as they arrive.
    pub async fn execute(
        &self,
        sql: &str,
        params: &[(String, String)],
        format: PrintFormat,
        out: &mut dyn Write,
    ) -> Result<QueryStats, QueryError> {
        let started = Instant::now();
        let plan = self.physical_plan(sql, params).await?;
        let mut writer = ResultWriter::new(format, plan.schema(), out);
        let mut stream = self.stream(&plan)?;
        while let Some(batch) = stream.next().await {
            writer.write(&batch?)?;
        }
        let rows = writer.finish()?;
        Ok(plan_stats(&plan, rows, started))
    }

    /// Runs `sql` and returns all its rows, with the figures of the run.
    pub async fn collect(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<(Vec<RecordBatch>, QueryStats), QueryError> {
        let started = Instant::now();
        let plan = self.physical_plan(sql, params).await?;
        let batches =
            datafusion::physical_plan::collect(Arc::clone(&plan), self.ctx.task_ctx()).await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok((batches, plan_stats(&plan, rows, started)))
    }

    /// Plans `sql` down to the plan that runs ([`QueryEngine::logical_plan`], then physical).
    pub async fn physical_plan(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<Arc<dyn ExecutionPlan>, QueryError> {
        let plan = self.logical_plan(sql, params).await?;
        Ok(self.ctx.state().create_physical_plan(&plan).await?)
    }

    /// Starts `plan`: its rows as they come.
    pub fn stream(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
    ) -> Result<SendableRecordBatchStream, QueryError> {
        Ok(execute_stream(Arc::clone(plan), self.ctx.task_ctx())?)
    }
}

/// What a finished plan did: `rows` returned since `started`, and what its scans read.
pub fn plan_stats(plan: &Arc<dyn ExecutionPlan>, rows: u64, started: Instant) -> QueryStats {
    let mut stats = QueryStats {
        rows,
        elapsed: started.elapsed(),
        ..QueryStats::default()
    };
    stats.add_scan_metrics(plan);
    stats.files = count_files(plan);
    stats
}

/// Files the plan's Parquet scans were given.
fn count_files(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let mut scans = Vec::new();
    file_scans(plan, &mut scans);
    // A large file is scanned as several ranges: count it once.
    let files: HashSet<&str> = scans
        .iter()
        .flat_map(|scan| scan.file_groups.iter().flat_map(|g| g.iter()))
        .map(|f| f.object_meta.location.as_ref())
        .collect();
    files.len() as u64
}

/// The store's files as a table, seen through a filter that hides expired events.
async fn retained(
    state: &SessionState,
    table: &StoreTable,
    now_ms: i64,
) -> Result<Arc<dyn TableProvider>, QueryError> {
    let files = files_table(state, table).await?;
    let cutoff = now_ms - i64::from(table.retention_days) * DAY_MS;
    if table.oldest_event_ms.is_some_and(|oldest| oldest >= cutoff) {
        return Ok(files);
    }
    let plan = LogicalPlanBuilder::scan("events", provider_as_source(files), None)?
        .filter(col("eventtime").gt_eq(lit(ScalarValue::TimestampMillisecond(Some(cutoff), None))))?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

async fn files_table(
    state: &SessionState,
    table: &StoreTable,
) -> Result<Arc<dyn TableProvider>, QueryError> {
    if table.files.is_empty() {
        let schema = match &table.schema {
            Some(schema) => view_schema(schema),
            None => Arc::new(arrow::datatypes::Schema::empty()),
        };
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let urls = table
        .files
        .iter()
        .map(|path| file_url(path))
        .collect::<Result<Vec<_>, _>>()?;
    let format = ParquetFormat::default().with_options(state.default_table_options().parquet);
    // Every file is named explicitly, so any extension will do.
    let options = ListingOptions::new(Arc::new(format)).with_file_extension("");
    let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options);
    let config = match &table.schema {
        Some(schema) => config.with_schema(view_schema(schema)),
        None => {
            let config = config.infer_schema(state).await?;
            let inferred = config
                .file_schema
                .clone()
                .expect("the schema was just inferred");
            config.with_schema(view_schema(&inferred))
        }
    };
    // Statistics of a file, read from its footer, are kept for the session (data files never
    // change once written): without this, every query recomputed them for every file.
    let statistics = state.runtime_env().cache_manager.get_file_statistic_cache();
    let listing = Arc::new(ListingTable::try_new(config)?.with_cache(statistics));
    Ok(Arc::new(ViewScan::new(listing)))
}

fn file_url(path: &Path) -> Result<ListingTableUrl, QueryError> {
    let fail = |message: String| QueryError::DataFile {
        path: path.display().to_string(),
        message,
    };
    let text = path
        .to_str()
        .ok_or_else(|| fail("the path is not UTF-8".into()))?;
    if text.contains(['*', '?', '[']) {
        return Err(fail("the path holds glob characters".into()));
    }
    ListingTableUrl::parse(text).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
