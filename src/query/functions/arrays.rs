//! Trino's array functions where DataFusion's differ: contains on arrays, array_max/array_min with NULLs, slice by length, split.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, ListBuilder, StringBuilder, UInt32Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{kernels::take::take, nullif};
use arrow::datatypes::FieldRef;
use arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::functions::string::contains;
use datafusion::functions_nested::array_has::array_has_udf;
use datafusion::functions_nested::min_max::{array_max_udf, array_min_udf};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::udf::{Udf, arity, integer, text};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(Contains::new()),
        ScalarUDF::from(NullIfAnyNull {
            inner: array_max_udf(),
        }),
        ScalarUDF::from(NullIfAnyNull {
            inner: array_min_udf(),
        }),
        Udf::new("slice", slice_args, |t| Ok(t[0].clone()), slice).build(),
        Udf::new("split", split_args, |_| Ok(split_type()), split).build(),
    ]
}

/// `contains(array, element)` as in Trino, routed to DataFusion's `array_has`; on text,
/// `contains(string, substring)` keeps DataFusion's meaning.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Contains {
    signature: Signature,
}

impl Contains {
    fn new() -> Contains {
        Contains {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn list_item(t: &DataType) -> Option<&FieldRef> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f),
        _ => None,
    }
}

impl ScalarUDFImpl for Contains {
    fn name(&self) -> &str {
        "contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        arity("contains", types, 2, 2)?;
        match list_item(&types[0]) {
            Some(item) => Ok(vec![
                DataType::List(Arc::clone(item)),
                item.data_type().clone(),
            ]),
            None if types[0].is_null() => Ok(vec![DataType::Utf8, DataType::Utf8]),
            None => Ok(vec![
                text("contains", &types[0])?,
                text("contains", &types[1])?,
            ]),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args[0].data_type() {
            DataType::List(_) => array_has_udf().invoke_with_args(args),
            _ => contains().invoke_with_args(args),
        }
    }
}

/// Trino's array_max and array_min are NULL when the array holds a NULL; DataFusion's skip
/// NULLs. This wraps DataFusion's and blanks those rows.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NullIfAnyNull {
    inner: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for NullIfAnyNull {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let lists = args.args[0].clone();
        let out = self.inner.invoke_with_args(args)?;
        if let (ColumnarValue::Scalar(list), ColumnarValue::Scalar(value)) = (&lists, &out) {
            return Ok(match holds_null(&list.to_array()?).value(0) {
                true => ColumnarValue::Scalar(ScalarValue::try_from(value.data_type())?),
                false => out,
            });
        }
        let mask = holds_null(&lists.to_array(rows)?);
        Ok(ColumnarValue::Array(nullif(&out.to_array(rows)?, &mask)?))
    }
}

/// For each row, whether its (non-NULL) list has a NULL element.
fn holds_null(lists: &ArrayRef) -> BooleanArray {
    let row_has_null = |items: ArrayRef| items.null_count() > 0;
    match lists.data_type() {
        DataType::List(_) => {
            let l = lists.as_list::<i32>();
            (0..l.len())
                .map(|i| Some(l.is_valid(i) && row_has_null(l.value(i))))
                .collect()
        }
        DataType::LargeList(_) => {
            let l = lists.as_list::<i64>();
            (0..l.len())
                .map(|i| Some(l.is_valid(i) && row_has_null(l.value(i))))
                .collect()
        }
        _ => BooleanArray::from(vec![false; lists.len()]),
    }
}

fn slice_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 3, 3)?;
    let list = match (list_item(&types[0]), &types[0]) {
        (Some(item), _) => DataType::List(Arc::clone(item)),
        (None, DataType::Null) => DataType::new_list(DataType::Null, true),
        (None, other) => return plan_err!("slice expects an array, got {other}"),
    };
    Ok(vec![
        list,
        integer(name, &types[1])?,
        integer(name, &types[2])?,
    ])
}

/// `slice(array, start, length)`: `length` elements from position `start` (from 1, or from
/// the end when negative).
fn slice(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let lists = arrays[0].as_list::<i32>();
    let starts = arrays[1].as_primitive::<Int64Type>();
    let lengths = arrays[2].as_primitive::<Int64Type>();
    let DataType::List(field) = lists.data_type() else {
        return exec_err!("slice expects an array");
    };
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    offsets.push(0i32);
    let mut picks: Vec<u32> = Vec::new();
    let mut valid = Vec::with_capacity(lists.len());
    for row in 0..lists.len() {
        let ok = lists.is_valid(row) && starts.is_valid(row) && lengths.is_valid(row);
        valid.push(ok);
        if ok {
            let (start, length) = (starts.value(row), lengths.value(row));
            if start == 0 {
                return exec_err!("SQL array indices start at 1");
            }
            if length < 0 {
                return exec_err!("length must be greater than or equal to 0");
            }
            let (lo, hi) = (
                lists.value_offsets()[row] as i64,
                lists.value_offsets()[row + 1] as i64,
            );
            let n = hi - lo;
            let from = if start > 0 { start - 1 } else { n + start };
            if (0..n).contains(&from) {
                let to = from.saturating_add(length).min(n);
                picks.extend((lo + from..lo + to).map(|i| i as u32));
            }
        }
        offsets.push(picks.len() as i32);
    }
    let values = take(lists.values(), &UInt32Array::from(picks), None)?;
    let list = ListArray::try_new(
        Arc::clone(field),
        OffsetBuffer::new(offsets.into()),
        values,
        Some(NullBuffer::from(valid)),
    )?;
    Ok(Arc::new(list))
}

fn split_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn split_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 3)?;
    let mut out = vec![text(name, &types[0])?, text(name, &types[1])?];
    if let Some(limit) = types.get(2) {
        out.push(integer(name, limit)?);
    }
    Ok(out)
}

/// `split(string, delimiter[, limit])`: the pieces as an array; with a limit, the last
/// piece holds the rest of the string.
fn split(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let strings = arrays[0].as_string::<i32>();
    let delimiters = arrays[1].as_string::<i32>();
    let limits = arrays.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in 0..strings.len() {
        let limit = match limits {
            Some(l) if l.is_null(row) => None,
            Some(l) if l.value(row) <= 0 => return exec_err!("Limit must be positive"),
            Some(l) => Some(Some(l.value(row) as usize)),
            None => Some(None),
        };
        let (Some(s), Some(d), Some(limit)) = (
            strings.is_valid(row).then(|| strings.value(row)),
            delimiters.is_valid(row).then(|| delimiters.value(row)),
            limit,
        ) else {
            out.append_null();
            continue;
        };
        if d.is_empty() {
            return exec_err!("The delimiter may not be the empty string");
        }
        match limit {
            Some(n) => s.splitn(n, d).for_each(|p| out.values().append_value(p)),
            None => s.split(d).for_each(|p| out.values().append_value(p)),
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{error, one_column, s, value};

    #[tokio::test]
    async fn contains_looks_in_arrays_and_still_in_strings() {
        assert_eq!(
            value("SELECT contains(make_array(1, 2), 2)").await,
            s("true")
        );
        assert_eq!(
            value("SELECT contains(make_array('a'), 'b')").await,
            s("false")
        );
        assert_eq!(value("SELECT contains('abc', 'b')").await, s("true"));
        let sql = "SELECT contains(l, 'x') FROM (VALUES (make_array('x', 'y')), (make_array('y')), (NULL)) t(l)";
        assert_eq!(one_column(sql).await, vec![s("true"), s("false"), None]);
    }

    #[tokio::test]
    async fn array_max_and_min_are_null_when_an_element_is() {
        assert_eq!(value("SELECT array_max(make_array(3, 1, 4))").await, s("4"));
        assert_eq!(value("SELECT array_min(make_array(3, 1, 4))").await, s("1"));
        assert_eq!(
            value("SELECT array_max(make_array(3, NULL, 4))").await,
            None
        );
        assert_eq!(value("SELECT array_min(make_array())").await, None);
        let sql = "SELECT array_min(l) FROM (VALUES (make_array(2, 5)), (make_array(2, NULL)), (NULL)) t(l)";
        assert_eq!(one_column(sql).await, vec![s("2"), None, None]);
    }

    #[tokio::test]
    async fn array_distinct_keeps_first_occurrences_in_order() {
        let sql = "SELECT array_distinct(make_array(3, 1, 3, 2, 1))";
        assert_eq!(value(sql).await, s("[3, 1, 2]"));
    }

    #[tokio::test]
    async fn slice_takes_a_length_from_a_one_based_start() {
        for (args, want) in [
            ("1, 2", "[1, 2]"),
            ("3, 10", "[3, 4]"),
            ("-2, 1", "[3]"),
            ("-2, 5", "[3, 4]"),
            ("5, 1", "[]"),
            ("-9, 2", "[]"),
            ("2, 0", "[]"),
        ] {
            let sql = format!("SELECT slice(make_array(1, 2, 3, 4), {args})");
            assert_eq!(value(&sql).await, s(want), "{args}");
        }
        assert_eq!(value("SELECT slice(make_array(1), NULL, 1)").await, None);
        let sql = "SELECT slice(l, 2, 1) FROM (VALUES (make_array('a', 'b')), (NULL), (make_array('c'))) t(l)";
        assert_eq!(one_column(sql).await, vec![s("[b]"), None, s("[]")]);
        assert!(
            error("SELECT slice(make_array(1), 0, 1)")
                .await
                .contains("start at 1")
        );
    }

    #[tokio::test]
    async fn split_returns_every_piece_as_an_array() {
        assert_eq!(value("SELECT split('a,b,,c', ',')").await, s("[a, b, , c]"));
        assert_eq!(value("SELECT split('', ',')").await, s("[]"));
        assert_eq!(value("SELECT cardinality(split('', ','))").await, s("1"));
        assert_eq!(
            value("SELECT split('a::b::c', '::', 2)").await,
            s("[a, b::c]")
        );
        assert_eq!(
            value("SELECT element_at(split('x/y', '/'), 2)").await,
            s("y")
        );
        assert_eq!(value("SELECT split(NULL, ',')").await, None);
        assert!(
            error("SELECT split('a', '')")
                .await
                .contains("empty string")
        );
    }
}
