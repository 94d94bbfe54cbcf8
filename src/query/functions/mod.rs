//! Lake (Trino) SQL functions that DataFusion lacks, names differently or gives other semantics.
//!
//! Each submodule holds one family. Functions DataFusion already has with Trino's semantics
//! are left alone: `map_keys`, `map_values`, `cardinality` (maps and arrays),
//! `array_distinct` (first occurrence order), `date_trunc` (keeps `Timestamp(ms)`, weeks
//! start on Monday), `regexp_like`, `approx_distinct`, `current_timestamp`.

mod aggregates;
mod arrays;
mod date_arith;
mod date_format;
mod datetime;
mod element_at;
mod json;
mod json_path;
mod map_subscript;
mod regex;
mod udf;

use std::sync::Arc;

use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;

/// Registers the Lake functions, replacing DataFusion's functions of the same names.
pub fn register(ctx: &SessionContext) {
    let element_at = Arc::new(element_at::udf());
    ctx.register_udf(element_at.as_ref().clone());
    // Infallible: the session state only records the rewrite.
    let _ = ctx
        .state_ref()
        .write()
        .register_function_rewrite(Arc::new(map_subscript::MapSubscript { element_at }));
    for f in json::udfs()
        .into_iter()
        .chain(arrays::udfs())
        .chain(datetime::udfs())
        .chain(date_format::udfs())
        .chain(regex::udfs())
    {
        ctx.register_udf(f);
    }
    for f in aggregates::udafs() {
        ctx.register_udaf(f);
    }
}

#[cfg(test)]
mod test_util {
    use arrow::array::AsArray;
    use arrow::datatypes::DataType;
    use datafusion::prelude::SessionContext;

    /// A session with the Lake functions, configured as the engine's.
    pub fn context() -> SessionContext {
        let ctx = SessionContext::new_with_config(super::super::session::session_config());
        super::register(&ctx);
        ctx
    }

    /// The first column of `sql`'s result, as text (NULL as `None`).
    pub async fn one_column(sql: &str) -> Vec<Option<String>> {
        let sql = super::super::rewrite::rewrite_field_access(sql);
        let batches = context().sql(&sql).await.unwrap().collect().await.unwrap();
        let mut out = Vec::new();
        for b in batches {
            let col = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
            out.extend(col.as_string::<i32>().iter().map(|v| v.map(str::to_string)));
        }
        out
    }

    /// The one value `sql` returns, as text (`None` for NULL).
    pub async fn value(sql: &str) -> Option<String> {
        let mut rows = one_column(sql).await;
        assert_eq!(rows.len(), 1, "{sql}");
        rows.pop().unwrap()
    }

    /// The message of the error `sql` fails with, at planning or at execution.
    pub async fn error(sql: &str) -> String {
        match context().sql(sql).await {
            Err(e) => e.to_string(),
            Ok(df) => df.collect().await.expect_err(sql).to_string(),
        }
    }

    /// `Some(text)`, for comparing with [`one_column`].
    pub fn s(text: &str) -> Option<String> {
        Some(text.to_string())
    }
}
