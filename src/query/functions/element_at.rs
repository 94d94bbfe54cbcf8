//! `element_at` on maps and arrays, as Trino has it (DataFusion's is `map_extract`).

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::compute::kernels::{cmp, take::take};
use arrow::datatypes::DataType;
use datafusion::common::cast::as_map_array;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::functions_nested::extract::array_element_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

pub fn udf() -> ScalarUDF {
    ScalarUDF::from(ElementAt::new())
}

/// `element_at(map, key)`: the value, or NULL when the key is absent (DataFusion's
/// `element_at` is `map_extract`, which returns a one-element list).
/// `element_at(array, n)`: the n-th element counting from 1, from the end when negative,
/// NULL when out of range (as Trino does).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ElementAt {
    signature: Signature,
}

impl Default for ElementAt {
    fn default() -> Self {
        ElementAt::new()
    }
}

impl ElementAt {
    pub fn new() -> ElementAt {
        ElementAt {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn check_args(arg_types: &[DataType]) -> Result<(&DataType, &DataType)> {
    match arg_types {
        [container, index] => Ok((container, index)),
        _ => plan_err!(
            "element_at takes 2 arguments (a map and a key, or an array and a position), got {}",
            arg_types.len()
        ),
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (container, _) = check_args(arg_types)?;
        match container {
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => {
                    Ok(vec![container.clone(), fields[0].data_type().clone()])
                }
                other => plan_err!("element_at: unexpected map entries type {other}"),
            },
            DataType::List(_) | DataType::LargeList(_) => {
                Ok(vec![container.clone(), DataType::Int64])
            }
            DataType::FixedSizeList(field, _) => {
                Ok(vec![DataType::List(Arc::clone(field)), DataType::Int64])
            }
            DataType::Null => Ok(vec![DataType::Null, DataType::Int64]),
            other => {
                plan_err!("element_at expects a map or an array as its first argument, got {other}")
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (container, _) = check_args(arg_types)?;
        match container {
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => Ok(fields[1].data_type().clone()),
                other => plan_err!("element_at: unexpected map entries type {other}"),
            },
            DataType::List(field) | DataType::LargeList(field) => Ok(field.data_type().clone()),
            DataType::FixedSizeList(field, _) => Ok(field.data_type().clone()),
            DataType::Null => Ok(DataType::Null),
            other => {
                plan_err!("element_at expects a map or an array as its first argument, got {other}")
            }
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.first().map(|a| a.data_type()) {
            Some(DataType::Map(..)) => map_element_at(&args.args),
            Some(DataType::Null) => Ok(ColumnarValue::Scalar(ScalarValue::Null)),
            // DataFusion's array_element already counts from 1 and from the end when negative.
            _ => array_element_udf().invoke_with_args(args),
        }
    }
}

fn map_element_at(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let [map, key] = arrays.as_slice() else {
        return exec_err!("element_at takes 2 arguments");
    };
    let map = as_map_array(map)?;
    let offsets = map.value_offsets();
    let base = offsets[0] as usize;
    let keys = map.keys().slice(base, offsets[map.len()] as usize - base);

    // For each map entry, does its key equal the key asked of its row?
    let matches = match &args[1] {
        ColumnarValue::Scalar(k) => cmp::eq(&keys, &k.to_scalar()?)?,
        ColumnarValue::Array(_) => {
            let rows: UInt32Array = (0..map.len())
                .flat_map(|row| {
                    let n = (offsets[row + 1] - offsets[row]) as usize;
                    std::iter::repeat_n(row as u32, n)
                })
                .collect();
            cmp::eq(&keys, &take(key, &rows, None)?)?
        }
    };
    let picks: UInt32Array = (0..map.len())
        .map(|row| {
            if map.is_null(row) {
                return None;
            }
            let (start, end) = (
                offsets[row] as usize - base,
                offsets[row + 1] as usize - base,
            );
            (start..end)
                .find(|&i| matches.is_valid(i) && matches.value(i))
                .map(|i| (i + base) as u32)
        })
        .collect();
    let values: ArrayRef = take(map.values(), &picks, None)?;
    if all_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &values, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(values))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{context, one_column};

    #[tokio::test]
    async fn map_lookup_gives_the_value_or_null() {
        let sql = "SELECT element_at(m, k) FROM (VALUES \
            (MAP {'a': 'x', 'b': 'y'}, 'b'), (MAP {'a': 'z'}, 'b'), (MAP {'a': 'w'}, 'a')) t(m, k)";
        assert_eq!(
            one_column(sql).await,
            vec![Some("y".into()), None, Some("w".into())]
        );
        let sql = "SELECT element_at(m, 'a') FROM (VALUES (MAP {'a': 'x'}), (MAP {'b': 'y'})) t(m)";
        assert_eq!(one_column(sql).await, vec![Some("x".into()), None]);
        let sql = "SELECT element_at(MAP {'a': 1, 'b': 2}, 'b')";
        assert_eq!(one_column(sql).await, vec![Some("2".into())]);
    }

    #[tokio::test]
    async fn list_positions_count_from_one_and_from_the_end() {
        let sql = "SELECT element_at(l, i) FROM (VALUES \
            (make_array('a','b','c'), 1), (make_array('a','b','c'), -1), (make_array('a'), 5)) t(l, i)";
        assert_eq!(
            one_column(sql).await,
            vec![Some("a".into()), Some("c".into()), None]
        );
    }

    #[tokio::test]
    async fn element_at_of_a_struct_list_allows_field_access() {
        let sql = "SELECT element_at(r, 1).arn FROM (VALUES \
            (make_array(named_struct('arn', 'arn:1', 'type', 'x')))) t(r)";
        assert_eq!(one_column(sql).await, vec![Some("arn:1".into())]);
    }

    #[tokio::test]
    async fn other_types_are_a_planning_error() {
        let err = context()
            .sql("SELECT element_at('abc', 1)")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("map or an array"), "{err}");
    }
}
