//! Tests of the query engine over Parquet files written here with the integration schema.

use super::*;
use crate::event::schema::integration_schema;
use arrow::array::AsArray;
use arrow::datatypes::DataType;
use datafusion::datasource::physical_plan::{FileScanConfig, ParquetSource};
use datafusion::physical_plan::displayable;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use serde_json::json;

const ID: &str = "074365db-2079-4c18-ab83-e753897b74fe";
/// 2023-02-01 00:00:00 UTC: "now" for the retention cut-off.
const NOW_MS: i64 = 1_675_209_600_000;
/// 2023-01-30 22:22:30 UTC.
const T0: i64 = 1_675_117_350_000;

fn event(n: i64, principal: &str, visibility: Option<&str>) -> serde_json::Value {
    let mut params = serde_json::Map::new();
    if let Some(v) = visibility {
        params.insert("visibility".into(), json!(v));
    }
    json!({
        "eventversion": "1.0", "eventcategory": "ActivityAuditLog", "eventtype": "ActivityLog",
        "eventid": format!("id-{n}"), "eventtime": T0 + n * 10_000, "awsregion": "us-east-1",
        "recipientaccountid": "123456789012",
        "metadata": {"ingestiontime": "2023-01-31 00:00:00.000", "channelarn": "arn:ch"},
        "eventdata": {
            "version": "1.0",
            "useridentity": {"type": "User", "principalid": principal,
                             "details": {"displayName": format!("User {principal}")}},
            "eventsource": "okta.system-log-events", "eventname": "user.session.start",
            "eventtime": "2023-01-30T22:22:30Z", "uid": format!("uid-{n}"),
            "requestparameters": params, "recipientaccountid": "123456789012"
        },
        "eventjson": "{}", "eventjsonchecksum": "x"
    })
}

/// Writes events (sorted by time) to a Parquet file, two rows per row group.
fn write_parquet(dir: &Path, name: &str, events: &[serde_json::Value]) -> PathBuf {
    write_row_groups(dir, name, events, 2)
}

/// Writes events (sorted by time) to a Parquet file, `rows` per row group.
fn write_row_groups(dir: &Path, name: &str, events: &[serde_json::Value], rows: usize) -> PathBuf {
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let mut reader = arrow::json::ReaderBuilder::new(integration_schema())
        .with_batch_size(events.len().max(1))
        .build(text.as_bytes())
        .unwrap();
    let batch = reader.next().unwrap().unwrap();
    let path = dir.join(name);
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

fn store_ref(id: &str, name: &str) -> StoreRef {
    StoreRef {
        id: id.into(),
        name: name.into(),
        arn: format!("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{id}"),
        unavailable: None,
    }
}

/// One store `okta-logs` of six events 10 s apart from T0, plus an empty store `empty.one`.
async fn engine(dir: &Path, retention_days: u32) -> QueryEngine {
    let events: Vec<_> = (0..6)
        .map(|n| {
            let principal = if n % 2 == 0 { "alice" } else { "bob" };
            event(n, principal, (n == 3).then_some("public"))
        })
        .collect();
    let file = write_parquet(dir, "a.parquet", &events);
    let tables = vec![
        StoreTable {
            store: store_ref(ID, "okta-logs"),
            schema: Some(integration_schema()),
            retention_days,
            files: vec![file],
            oldest_event_ms: None,
        },
        StoreTable {
            store: store_ref("181660c8-d56d-4ec1-aa32-c1713fb3bca3", "empty.one"),
            schema: Some(integration_schema()),
            retention_days: 7,
            files: vec![],
            oldest_event_ms: None,
        },
    ];
    QueryEngine::new(tables, NOW_MS).await.unwrap()
}

/// The first column of the result, as text.
async fn strings(engine: &QueryEngine, sql: &str) -> Vec<Option<String>> {
    let (batches, _) = engine
        .collect(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in batches {
        let col = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
        out.extend(col.as_string::<i32>().iter().map(|v| v.map(str::to_string)));
    }
    out
}

fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[tokio::test]
async fn dot_paths_ignore_case_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let want = some(&["alice", "bob"]);
    for sql in [
        format!(
            "SELECT eventData.userIdentity.principalId FROM {ID} GROUP BY eventData.userIdentity.principalId ORDER BY eventData.userIdentity.principalId"
        ),
        format!("SELECT eventdata.useridentity.principalid AS p FROM {ID} GROUP BY 1 ORDER BY p"),
        "SELECT DISTINCT e.EVENTDATA.userIdentity.principalID FROM okta-logs e WHERE e.eventData.eventSource = 'okta.system-log-events' ORDER BY 1".to_string(),
    ] {
        assert_eq!(strings(&engine, &sql).await, want, "{sql}");
    }
}

#[tokio::test]
async fn element_at_reads_maps() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let sql = format!(
        "SELECT element_at(eventData.userIdentity.details, 'displayName') FROM {ID} \
         WHERE element_at(eventData.requestParameters, 'visibility') = 'public'"
    );
    assert_eq!(strings(&engine, &sql).await, some(&["User bob"]));
    let sql = format!("SELECT count(element_at(eventData.requestParameters, 'nope')) FROM {ID}");
    assert_eq!(strings(&engine, &sql).await, some(&["0"]));
}

#[tokio::test]
async fn a_map_inside_eventdata_is_read_without_the_rest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    // Large user agents (beyond the 512 KiB the reader fetches with the footer), so that
    // reading all of eventdata costs several times what reading one map does.
    let events: Vec<_> = (0..6)
        .map(|n| {
            let mut e = event(n, "alice", (n == 3).then_some("public"));
            e["eventdata"]["useragent"] = json!(format!("agent {n} ").repeat(40_000));
            e
        })
        .collect();
    let file = write_parquet(dir.path(), "big.parquet", &events);
    let table = StoreTable {
        store: store_ref(ID, "okta-logs"),
        schema: Some(integration_schema()),
        retention_days: 30,
        files: vec![file],
        oldest_event_ms: None,
    };
    let engine = QueryEngine::new(vec![table], NOW_MS).await.unwrap();
    let whole = format!("SELECT count(*) FROM {ID} WHERE eventData IS NOT NULL");
    let (_, whole) = engine.collect(&whole, &[]).await.unwrap();
    let map = format!(
        "SELECT count(*) FROM {ID} WHERE element_at(eventData.requestParameters, 'visibility') = 'public'"
    );
    let (batches, narrow) = engine.collect(&map, &[]).await.unwrap();
    assert_eq!(
        batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0),
        1
    );
    assert!(
        narrow.bytes_scanned > 0 && narrow.bytes_scanned < whole.bytes_scanned / 2,
        "{narrow:?} against {whole:?}"
    );
    // A map, a struct and leaves of the same column, in the select list and the filter.
    let sql = format!(
        "SELECT element_at(eventData.userIdentity.details, 'displayName') || ' ' || eventData.eventName \
         || ' ' || eventData.userIdentity.type, substr(eventData.userAgent, 1, 7) FROM {ID} \
         WHERE element_at(eventData.requestParameters, 'visibility') = 'public' AND eventData.uid = 'uid-3'"
    );
    assert_eq!(
        strings(&engine, &sql).await,
        some(&["User alice user.session.start User"])
    );
    let sql = format!("SELECT eventData.userIdentity FROM {ID} WHERE eventData.uid = 'uid-3'");
    let (batches, _) = engine.collect(&sql, &[]).await.unwrap();
    let identity = batches[0].column(0).as_struct();
    assert_eq!(identity.num_columns(), 3);
    assert_eq!(
        identity
            .column_by_name("principalid")
            .unwrap()
            .as_string_view()
            .value(0),
        "alice"
    );
}

#[tokio::test]
async fn timestamps_compare_with_string_literals_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    // Events at 22:22:30, :40, :50, 22:23:00, :10, :20.
    let sql = format!(
        "SELECT eventid FROM {ID} WHERE eventTime > '2023-01-30 22:22:30.000' \
         AND eventTime < '2023-01-30 22:23:00' ORDER BY eventTime"
    );
    assert_eq!(strings(&engine, &sql).await, some(&["id-1", "id-2"]));
    let (_, all) = engine
        .collect(&format!("SELECT eventid FROM {ID}"), &[])
        .await
        .unwrap();
    assert_eq!(all.rows_scanned, 6);
    let late = format!("SELECT eventid FROM {ID} WHERE eventTime >= '2023-01-30 22:23:10'");
    let (_, some_rows) = engine.collect(&late, &[]).await.unwrap();
    assert_eq!(some_rows.rows, 2);
    assert!(some_rows.rows_scanned <= 2, "{some_rows:?}");
    assert!(some_rows.bytes_scanned > 0 && some_rows.bytes_scanned < all.bytes_scanned);
    assert_eq!(some_rows.files, 1);
}

#[tokio::test]
async fn retention_hides_expired_events() {
    let dir = tempfile::tempdir().unwrap();
    // NOW is 1 day 1 hour 37 minutes after T0: a 1-day retention hides everything,
    // and the first events are 25.6 h old.
    let hidden = engine(dir.path(), 1).await;
    let sql = format!("SELECT count(*) FROM {ID}");
    assert_eq!(strings(&hidden, &sql).await, some(&["0"]));
    let kept = engine(dir.path(), 2).await;
    assert_eq!(strings(&kept, &sql).await, some(&["6"]));
}

#[tokio::test]
async fn stores_by_name_arn_and_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let arn = format!("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{ID}");
    for from in [
        "okta-logs",
        arn.as_str(),
        "\"074365DB-2079-4C18-AB83-E753897B74FE\"",
    ] {
        let sql = format!("SELECT count(*) FROM {from}");
        assert_eq!(strings(&engine, &sql).await, some(&["6"]), "{sql}");
    }
    let sql = "SELECT count(*) FROM empty.one WHERE eventData.eventName = 'x'";
    assert_eq!(strings(&engine, sql).await, some(&["0"]));
    let sql = format!("SELECT count(*) FROM {ID} a JOIN empty.one b ON a.eventid = b.eventid");
    assert_eq!(strings(&engine, &sql).await, some(&["0"]));
}

#[tokio::test]
async fn lake_sample_query_runs_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let sql = std::fs::read_to_string(
        "/work/shared/conformance/lake-sample-queries/integration/q5-integration.sql",
    )
    .unwrap_or_else(|_| {
        format!(
            "SELECT eventData.eventTime as eventTime, \
             element_at(eventData.userIdentity.details, 'displayName') as displayName \
             FROM {ID} where eventData.eventSource='okta.system-log-events' \
             and eventTime > '2023-01-30 22:22:30.000' and eventTime < '2023-01-31 22:23:12.000'"
        )
    });
    let (batches, stats) = engine.collect(&sql, &[]).await.unwrap();
    assert_eq!(stats.rows, 5);
    let names = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect::<Vec<_>>();
    assert!(names.contains(&"displayname".to_string()), "{names:?}");
}

#[tokio::test]
async fn errors_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let err = |sql: &'static str| {
        let engine = &engine;
        async move { engine.collect(sql, &[]).await.unwrap_err().to_string() }
    };
    let unknown = err("SELECT * FROM 00000000-0000-0000-0000-000000000000").await;
    assert!(unknown.contains(&format!("okta-logs ({ID})")), "{unknown}");
    let table = err("SELECT * FROM events JOIN okta-logs ON true").await;
    assert!(
        table.starts_with("no event data store or table is named `events`;")
            && table.contains(&format!("okta-logs ({ID})")),
        "{table}"
    );
    let insert = err("INSERT INTO t VALUES (1)").await;
    assert!(insert.contains("only SELECT"), "{insert}");
    let parse = err("SELECT a b c FROM okta-logs WHERE x = 'open").await;
    assert!(
        parse.starts_with("syntax error: Unterminated string literal"),
        "{parse}"
    );
    let column = err("SELECT eventData.nope FROM okta-logs").await;
    assert!(
        column.starts_with(
            "`eventData.nope`: eventData has no field `nope`; its fields are version, useridentity,"
        ),
        "{column}"
    );
    let params = engine
        .collect("SELECT * FROM ${eds}", &[])
        .await
        .unwrap_err();
    assert!(params.to_string().contains("${eds}"), "{params}");
}

#[tokio::test]
async fn execute_prints_nested_json_and_counts_rows() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let mut out = Vec::new();
    let params = vec![("eds".to_string(), "okta-logs".to_string())];
    let sql = "SELECT eventTime, eventData.userIdentity FROM ${eds} WHERE eventid = 'id-0'";
    let stats = engine
        .execute(sql, &params, PrintFormat::Ndjson, &mut out)
        .await
        .unwrap();
    assert_eq!(stats.rows, 1);
    let row: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(row["eventtime"], json!("2023-01-30 22:22:30.000"));
    // Named after the field, as Lake names it, and nested maps as objects.
    assert_eq!(
        row["useridentity"]["details"]["displayName"],
        json!("User alice")
    );
    assert!(stats.to_string().starts_with("1 row in "), "{stats}");
}

#[test]
fn glob_characters_in_paths_are_refused() {
    let err = file_url(Path::new("/tmp/a[1].parquet")).unwrap_err();
    assert!(err.to_string().contains("glob"), "{err}");
    assert!(file_url(Path::new("/tmp/a.parquet")).is_ok());
}

#[tokio::test]
async fn a_file_scanned_in_ranges_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    {
        let state = engine.context().state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        options.optimizer.repartition_file_min_size = 1;
        options.execution.target_partitions = 4;
    }
    let sql = format!("SELECT eventid FROM {ID}");
    let plan = engine.physical_plan(&sql, &[]).await.unwrap();
    let ranges: usize = scans(&plan)
        .iter()
        .map(|scan| scan.file_groups.iter().map(|g| g.len()).sum::<usize>())
        .sum();
    assert!(ranges > 1, "the one file is read as several ranges");
    let (_, stats) = engine.collect(&sql, &[]).await.unwrap();
    assert_eq!(stats.files, 1);
    assert_eq!(stats.rows_scanned, 6);
}

#[tokio::test]
async fn file_statistics_are_read_once_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let cache = engine
        .context()
        .runtime_env()
        .cache_manager
        .get_file_statistic_cache()
        .expect("the session keeps file statistics");
    assert_eq!(cache.len(), 0);
    let sql = format!("SELECT count(*) FROM {ID} WHERE eventdata.eventname <> 'x'");
    let first = strings(&engine, &sql).await;
    let cached = cache.len();
    assert!(cached > 0, "the query's files have their statistics kept");
    assert_eq!(strings(&engine, &sql).await, first);
    assert_eq!(
        cache.len(),
        cached,
        "the second query read them from the cache"
    );
}

/// The file scans of `plan`.
fn scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<&FileScanConfig> {
    let mut scans = Vec::new();
    crate::query::view_strings::file_scans(plan, &mut scans);
    scans
}

/// The Parquet scans' files, each with the schema its reader was given.
fn scanned_schemas(plan: &Arc<dyn ExecutionPlan>) -> Vec<Option<SchemaRef>> {
    scans(plan)
        .iter()
        .flat_map(|scan| scan.file_groups.iter().flat_map(|g| g.iter()))
        .map(|file| file.arrow_schema.clone())
        .collect()
}

#[tokio::test]
async fn nested_strings_are_read_as_views_and_a_missing_column_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<_> = (0..4).map(|n| event(n, "carol", None)).collect();
    let full = write_parquet(dir.path(), "full.parquet", &events);
    // A file without the addendum column, as another tool might have written it.
    let batch = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&full).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != "addendum")
        .collect();
    let narrow = batch.project(&keep).unwrap();
    let partial = dir.path().join("partial.parquet");
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(&partial).unwrap(),
        narrow.schema(),
        None,
    )
    .unwrap();
    writer.write(&narrow).unwrap();
    writer.close().unwrap();
    let tables = vec![StoreTable {
        store: store_ref(ID, "okta-logs"),
        schema: Some(integration_schema()),
        retention_days: 3650,
        files: vec![full, partial],
        oldest_event_ms: None,
    }];
    let engine = QueryEngine::new(tables, NOW_MS).await.unwrap();
    let sql = format!("SELECT eventData.userIdentity.principalId, addendum FROM {ID}");
    let plan = engine.physical_plan(&sql, &[]).await.unwrap();
    let schemas = scanned_schemas(&plan);
    assert!(!schemas.is_empty());
    for schema in schemas {
        let schema = schema.expect("every file is read with its schema given");
        let DataType::Struct(eventdata) = schema.field_with_name("eventdata").unwrap().data_type()
        else {
            panic!("eventdata is a struct");
        };
        assert_eq!(
            eventdata.find("eventname").unwrap().1.data_type(),
            &DataType::Utf8View
        );
    }
    let (batches, _) = engine.collect(&sql, &[]).await.unwrap();
    let rows = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(rows.num_rows(), 8);
    assert_eq!(rows.column(0).data_type(), &DataType::Utf8View);
    assert_eq!(rows.column(1).null_count(), 8);
}

/// Whether each Parquet scan of `plan` filters rows while decoding.
fn row_filtered(plan: &Arc<dyn ExecutionPlan>) -> Vec<bool> {
    scans(plan)
        .iter()
        .filter_map(|scan| scan.file_source.downcast_ref::<ParquetSource>())
        .map(|parquet| parquet.table_parquet_options().global.pushdown_filters)
        .collect()
}

#[tokio::test]
async fn only_filters_that_look_up_values_filter_rows_while_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 30).await;
    let cases = [
        (
            "eventData.userIdentity.principalId = 'bob'",
            true,
            vec!["id-1", "id-3", "id-5"],
        ),
        (
            "eventData.uid IN ('uid-2', 'uid-4')",
            true,
            vec!["id-2", "id-4"],
        ),
        (
            "element_at(eventData.requestParameters, 'visibility') IS NOT NULL",
            false,
            vec!["id-3"],
        ),
        ("eventTime > '2023-01-30 22:23:10.000'", false, vec!["id-5"]),
    ];
    for (filter, expected, ids) in cases {
        let sql = format!("SELECT eventid FROM {ID} WHERE {filter} ORDER BY eventid");
        let plan = engine.physical_plan(&sql, &[]).await.unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert_eq!(row_filtered(&plan), vec![expected], "{filter}:\n{shown}");
        assert_eq!(
            shown.contains("FilterExec"),
            !expected,
            "{filter}:\n{shown}"
        );
        assert_eq!(strings(&engine, &sql).await, some(&ids), "{filter}");
    }
}

/// Every row of the result as text, sorted.
async fn sorted_rows(engine: &QueryEngine, sql: &str) -> Vec<String> {
    let (batches, _) = engine
        .collect(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| arrow::util::display::array_value_to_string(c, row).unwrap())
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn group_keys_read_as_dictionaries_give_the_same_groups() {
    let dir = tempfile::tempdir().unwrap();
    // Row groups of twice the session's batch of 8,192 rows: a new dictionary every other
    // batch, which the next batch shares. Four principals (one of them absent), six
    // addresses, three names and sources, some errors.
    let events: Vec<_> = (0..40_000)
        .map(|n| {
            let principals = ["alice", "bob", "carol"];
            let mut e = event(n, principals[(n % 3) as usize], None);
            let data = &mut e["eventdata"];
            if n % 7 == 0 {
                data["useridentity"]
                    .as_object_mut()
                    .unwrap()
                    .remove("principalid");
            }
            data["eventname"] = json!(["list", "get", "put"][(n % 5 % 3) as usize]);
            data["eventsource"] = json!(["s3", "iam", "okta"][(n / 15_000) as usize]);
            data["sourceipaddress"] = json!(format!("10.0.0.{}", n * 7 % 6));
            if n % 4 == 1 {
                data["errorcode"] = json!(["AccessDenied", "Throttling"][(n % 8 / 4) as usize]);
            }
            e
        })
        .collect();
    let file = write_row_groups(dir.path(), "a.parquet", &events, 16_384);
    let tables = vec![StoreTable {
        store: store_ref(ID, "okta-logs"),
        schema: Some(integration_schema()),
        retention_days: 3650,
        files: vec![file],
        oldest_event_ms: None,
    }];
    let engine = QueryEngine::new(tables, NOW_MS).await.unwrap();
    let principal = "eventData.userIdentity.principalId";
    let address = "eventData.sourceIPAddress";
    // Each query, and the same query with its keys computed (`|| ''`), which keeps them
    // views; whether the first reads dictionaries.
    let cases = [
        (
            format!("{principal}, count(DISTINCT {address})"),
            format!("{principal} || '', count(DISTINCT {address} || '')"),
            "GROUP BY 1",
            true,
        ),
        (
            "eventData.eventSource, eventData.errorCode, count(*)".to_string(),
            "eventData.eventSource || '', eventData.errorCode || '', count(*)".to_string(),
            "WHERE eventData.errorCode IS NOT NULL GROUP BY 1, 2",
            true,
        ),
        (
            "eventData.eventName, count(*), min(eventTime)".to_string(),
            "eventData.eventName || '', count(*), min(eventTime)".to_string(),
            "WHERE eventTime > '2023-01-31 12:00:00' GROUP BY 1",
            true,
        ),
        (
            // A key the filter only tests for null.
            "eventData.errorCode, count(*)".to_string(),
            "eventData.errorCode || '', count(*)".to_string(),
            "WHERE eventData.errorCode IS NOT NULL GROUP BY 1",
            true,
        ),
        (
            // A key the filter compares: it stays a view.
            "eventData.errorCode, count(*)".to_string(),
            "eventData.errorCode || '', count(*)".to_string(),
            "WHERE eventData.errorCode IS NULL OR eventData.errorCode <> 'Throttling' GROUP BY 1",
            false,
        ),
        (
            // The key is also an argument: it stays a view.
            "eventData.eventName, max(eventData.eventName), count(*)".to_string(),
            "eventData.eventName || '', max(eventData.eventName), count(*)".to_string(),
            "GROUP BY 1",
            false,
        ),
        (
            // The filter reads the principal: only the name is read as a dictionary.
            format!("eventData.eventName, count(DISTINCT {principal})"),
            format!("eventData.eventName || '', count(DISTINCT {principal} || '')"),
            &format!("WHERE {principal} <> 'bob' GROUP BY 1"),
            true,
        ),
    ];
    for (columns, computed, rest, dictionaries) in cases {
        let sql = format!("SELECT {columns} FROM {ID} {rest}");
        let plan = engine.physical_plan(&sql, &[]).await.unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert_eq!(
            shown.contains("keys read as dictionaries"),
            dictionaries,
            "{sql}:\n{shown}"
        );
        let expected = sorted_rows(&engine, &format!("SELECT {computed} FROM {ID} {rest}")).await;
        assert!(expected.len() >= 2, "{sql}: {expected:?}");
        assert_eq!(sorted_rows(&engine, &sql).await, expected, "{sql}");
    }
}
