//! A scalar function made of plain functions (coercion, return type, evaluation over arrays), and shared argument coercions.

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Checks the argument types and says which types the arguments are cast to.
pub type CoerceFn = fn(&str, &[DataType]) -> Result<Vec<DataType>>;
/// The result type, from the coerced argument types.
pub type ReturnFn = fn(&[DataType]) -> Result<DataType>;
/// Evaluates the function over arguments of equal length.
pub type InvokeFn = fn(&[ArrayRef]) -> Result<ArrayRef>;

/// A scalar function whose behaviour is three plain functions: everything a Lake function
/// needs, without one `ScalarUDFImpl` per function. Two are equal when their names are (the
/// registry keeps one function per name; function pointers have no reliable equality).
#[derive(Debug)]
pub struct Udf {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    coerce: CoerceFn,
    ret: ReturnFn,
    invoke: InvokeFn,
}

impl Udf {
    pub fn new(name: &'static str, coerce: CoerceFn, ret: ReturnFn, invoke: InvokeFn) -> Udf {
        Udf {
            name,
            aliases: Vec::new(),
            signature: Signature::user_defined(Volatility::Immutable),
            coerce,
            ret,
            invoke,
        }
    }

    pub fn with_aliases(mut self, aliases: &[&str]) -> Udf {
        self.aliases = aliases.iter().map(|a| a.to_string()).collect();
        self
    }

    pub fn build(self) -> ScalarUDF {
        ScalarUDF::from(self)
    }
}

impl PartialEq for Udf {
    fn eq(&self, other: &Udf) -> bool {
        self.name == other.name && self.aliases == other.aliases
    }
}

impl Eq for Udf {}

impl std::hash::Hash for Udf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.aliases.hash(state);
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(self.name, arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, self.invoke)
    }
}

/// Runs `f` over the arguments as arrays; all-scalar arguments give a scalar.
pub fn invoke_arrays(args: &[ColumnarValue], f: InvokeFn) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        let arrays = args
            .iter()
            .map(|a| a.to_array(1))
            .collect::<Result<Vec<_>>>()?;
        let out = f(&arrays)?;
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
    }
    let arrays = ColumnarValue::values_to_arrays(args)?;
    Ok(ColumnarValue::Array(f(&arrays)?))
}

/// The store's timestamp type, which date and time functions compute in.
pub const TIMESTAMP_MS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// Fails unless there are between `min` and `max` arguments.
pub fn arity(name: &str, types: &[DataType], min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&types.len()) {
        return Ok(());
    }
    let expected = if min == max {
        min.to_string()
    } else {
        format!("{min} to {max}")
    };
    plan_err!("{name} takes {expected} arguments, got {}", types.len())
}

/// A text argument is read as `Utf8`.
pub fn text(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Null
        | DataType::Dictionary(..) => Ok(DataType::Utf8),
        other => plan_err!("{name} expects text (varchar), got {other}"),
    }
}

/// An integer argument is read as `Int64`.
pub fn integer(name: &str, t: &DataType) -> Result<DataType> {
    if t.is_integer() || t.is_null() {
        Ok(DataType::Int64)
    } else {
        plan_err!("{name} expects an integer, got {t}")
    }
}

/// A timestamp argument (or a date, or text that casts to a timestamp) is read in milliseconds.
pub fn timestamp(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Timestamp(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Null
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => Ok(TIMESTAMP_MS),
        other => plan_err!("{name} expects a timestamp, got {other}"),
    }
}
