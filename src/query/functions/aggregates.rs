//! Trino's aggregates that DataFusion lacks: arbitrary (DataFusion's any_value) and count_if.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility, lit, when,
};

pub fn udafs() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(CountIf::new()),
        any_value().with_aliases(["arbitrary"]),
    ]
}

/// DataFusion's any_value: a value of the group, NULLs skipped.
fn any_value() -> AggregateUDF {
    datafusion::functions_aggregate::any_value::any_value_udaf()
        .as_ref()
        .clone()
}

/// `count_if(condition)`: the rows where the condition is true (0 for none). Planned as
/// `count(CASE WHEN condition THEN 1 END)`, which has DataFusion's grouped accumulator.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

impl CountIf {
    fn new() -> CountIf {
        CountIf {
            signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[count]", args.name),
            DataType::Int64,
            false,
        ))])
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAccumulator(0)))
    }

    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }

    fn simplify(
        &self,
    ) -> Option<datafusion::logical_expr::function::AggregateFunctionSimplification> {
        Some(Box::new(|f: AggregateFunction, _| {
            let params = f.params;
            let [condition] = <[Expr; 1]>::try_from(params.args)
                .or_else(|args| plan_err!("count_if takes 1 argument, got {}", args.len()))?;
            let counted = when(condition, lit(1i64)).end()?;
            Ok(Expr::AggregateFunction(AggregateFunction::new_udf(
                count_udaf(),
                vec![counted],
                params.distinct,
                params.filter,
                params.order_by,
                params.null_treatment,
            )))
        }))
    }
}

/// The accumulator used where the simplification does not run.
#[derive(Debug)]
struct CountIfAccumulator(i64);

impl Accumulator for CountIfAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 += values[0].as_boolean().true_count() as i64;
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = states[0].as_primitive::<arrow::datatypes::Int64Type>();
        self.0 += counts.iter().flatten().sum::<i64>();
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{one_column, s};

    const T: &str = "(VALUES ('a', 1), ('a', NULL), ('b', 3), ('b', 4), ('c', NULL)) t(k, v)";

    #[tokio::test]
    async fn count_if_counts_true_rows_per_group() {
        let sql = format!("SELECT count_if(v > 1) FROM {T} GROUP BY k ORDER BY k");
        assert_eq!(one_column(&sql).await, vec![s("0"), s("2"), s("0")]);
        let sql = format!("SELECT count_if(v > 100) FROM {T}");
        assert_eq!(one_column(&sql).await, vec![s("0")]);
        let sql = format!("SELECT count_if(v > 1) FILTER (WHERE k = 'b') FROM {T}");
        assert_eq!(one_column(&sql).await, vec![s("2")]);
    }

    #[tokio::test]
    async fn arbitrary_picks_a_non_null_value_of_the_group() {
        let sql = format!("SELECT arbitrary(v) FROM {T} GROUP BY k ORDER BY k");
        let got = one_column(&sql).await;
        assert_eq!((&got[0], &got[2]), (&s("1"), &None), "{got:?}");
        assert!(got[1] == s("3") || got[1] == s("4"), "{got:?}");
        let sql = format!("SELECT arbitrary(k) FROM {T} WHERE k = 'b'");
        assert_eq!(one_column(&sql).await, vec![s("b")]);
    }

    #[tokio::test]
    async fn approx_distinct_counts_distinct_values() {
        let sql = format!("SELECT approx_distinct(k) FROM {T}");
        assert_eq!(one_column(&sql).await, vec![s("3")]);
    }
}
