use super::*;

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn map(name: &str) -> Field {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            utf8("value"),
        ])),
        false,
    );
    Field::new(name, DataType::Map(Arc::new(entries), false), true)
}

fn event_data() -> DataType {
    let identity = DataType::Struct(Fields::from(vec![utf8("type"), map("details")]));
    DataType::Struct(Fields::from(vec![
        utf8("eventname"),
        Field::new("useridentity", identity, true),
        map("requestparameters"),
        utf8("uid"),
    ]))
}

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_path_to_a_map_is_nested_and_a_leaf_is_not() {
    let t = event_data();
    assert!(ends_nested(&t, &path(&["requestparameters"])));
    assert!(ends_nested(&t, &path(&["requestparameters", "bucketName"])));
    assert!(ends_nested(&t, &path(&["useridentity"])));
    assert!(!ends_nested(&t, &path(&["eventname"])));
    assert!(!ends_nested(&t, &path(&["useridentity", "type"])));
    assert!(!ends_nested(&t, &path(&["nosuchfield"])));
}

#[test]
fn the_narrowed_struct_keeps_the_named_fields_in_order() {
    let t = event_data();
    let narrowed = narrowed_type(
        &t,
        &[
            path(&["requestparameters", "bucketName"]),
            path(&["useridentity", "details"]),
            path(&["eventname"]),
        ],
    )
    .unwrap();
    let identity = DataType::Struct(Fields::from(vec![map("details")]));
    let expected = DataType::Struct(Fields::from(vec![
        utf8("eventname"),
        Field::new("useridentity", identity, true),
        map("requestparameters"),
    ]));
    assert_eq!(narrowed, expected);
}

#[test]
fn a_path_naming_no_field_leaves_the_type_alone() {
    assert_eq!(
        narrowed_type(&event_data(), &[path(&["nosuchfield"])]),
        None
    );
}
