//! Arrow schemas of the records kept in event data stores, as CloudTrail Lake publishes them.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Lake shows timestamps without a zone, in UTC, to the millisecond.
pub const EVENT_TIME_TYPE: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

/// `map<string,string>` as Arrow and Parquet spell it (entries/key/value).
pub fn string_map_type() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn string_map(name: &str) -> Field {
    Field::new(name, string_map_type(), true)
}

fn structure(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

/// The `addendum` struct shared by every event category.
pub fn addendum_field() -> Field {
    structure(
        "addendum",
        vec![
            utf8("reason"),
            utf8("updatedfields"),
            utf8("originaluid"),
            utf8("originaleventid"),
        ],
    )
}

/// Fields of the `eventdata` struct of an ActivityAuditLog record.
pub fn event_data_fields() -> Fields {
    Fields::from(vec![
        utf8("version"),
        structure(
            "useridentity",
            vec![utf8("type"), utf8("principalid"), string_map("details")],
        ),
        utf8("useragent"),
        utf8("eventsource"),
        utf8("eventname"),
        utf8("eventtime"),
        utf8("uid"),
        string_map("requestparameters"),
        string_map("responseelements"),
        utf8("errorcode"),
        utf8("errormessage"),
        utf8("sourceipaddress"),
        utf8("recipientaccountid"),
        string_map("additionaleventdata"),
    ])
}

static INTEGRATION: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("eventversion"),
        utf8("eventcategory"),
        utf8("eventtype"),
        utf8("eventid"),
        Field::new("eventtime", EVENT_TIME_TYPE, true),
        utf8("awsregion"),
        utf8("recipientaccountid"),
        addendum_field(),
        structure("metadata", vec![utf8("ingestiontime"), utf8("channelarn")]),
        Field::new("eventdata", DataType::Struct(event_data_fields()), true),
        utf8("eventjson"),
        utf8("eventjsonchecksum"),
    ]))
});

/// Schema of an ActivityAuditLog (integration) event data store: one row per event.
pub fn integration_schema() -> SchemaRef {
    Arc::clone(&INTEGRATION)
}

static MANAGEMENT: LazyLock<SchemaRef> = LazyLock::new(|| {
    let session_issuer = structure(
        "sessionissuer",
        ["type", "principalid", "arn", "accountid", "username"]
            .map(utf8)
            .to_vec(),
    );
    let web_id = structure(
        "webidfederationdata",
        vec![utf8("federatedprovider"), string_map("attributes")],
    );
    let attributes = structure(
        "attributes",
        vec![utf8("creationdate"), utf8("mfaauthenticated")],
    );
    let session_context = structure(
        "sessioncontext",
        vec![
            session_issuer,
            web_id,
            attributes,
            utf8("sourceidentity"),
            utf8("ec2roledelivery"),
            utf8("ec2issuedinvpc"),
        ],
    );
    let on_behalf_of = structure("onbehalfof", vec![utf8("userid"), utf8("identitystorearn")]);
    let mut identity: Vec<Field> = [
        "type",
        "principalid",
        "arn",
        "accountid",
        "accesskeyid",
        "username",
    ]
    .map(utf8)
    .to_vec();
    identity.extend([
        session_context,
        utf8("invokedby"),
        utf8("identityprovider"),
        utf8("credentialid"),
        on_behalf_of,
    ]);
    let resource = Field::new(
        "item",
        DataType::Struct(Fields::from(
            ["accountid", "type", "arn", "arnprefix"].map(utf8).to_vec(),
        )),
        true,
    );
    Arc::new(Schema::new(vec![
        utf8("eventversion"),
        structure("useridentity", identity),
        Field::new("eventtime", EVENT_TIME_TYPE, true),
        utf8("eventsource"),
        utf8("eventname"),
        utf8("awsregion"),
        utf8("sourceipaddress"),
        utf8("useragent"),
        utf8("errorcode"),
        utf8("errormessage"),
        string_map("requestparameters"),
        string_map("responseelements"),
        string_map("additionaleventdata"),
        utf8("requestid"),
        utf8("eventid"),
        Field::new("readonly", DataType::Boolean, true),
        Field::new("resources", DataType::List(Arc::new(resource)), true),
        utf8("eventtype"),
        utf8("apiversion"),
        Field::new("managementevent", DataType::Boolean, true),
        utf8("recipientaccountid"),
        utf8("sharedeventid"),
        utf8("annotation"),
        utf8("vpcendpointid"),
        utf8("vpcendpointaccountid"),
        string_map("serviceeventdetails"),
        addendum_field(),
        string_map("edgedevicedetails"),
        string_map("insightdetails"),
        utf8("eventcategory"),
        structure(
            "tlsdetails",
            ["tlsversion", "ciphersuite", "clientprovidedhostheader"]
                .map(utf8)
                .to_vec(),
        ),
        // Lake's published queries compare it with `true`: a boolean, as readonly is.
        Field::new("sessioncredentialfromconsole", DataType::Boolean, true),
        utf8("eventjson"),
        utf8("eventjsonchecksum"),
    ]))
});

/// Schema of a management or data event store (imported CloudTrail logs), following Lake's
/// published management-event schema.
pub fn management_schema() -> SchemaRef {
    Arc::clone(&MANAGEMENT)
}

/// The schema of an event data store of `category`.
pub fn schema_for(category: crate::catalog::EventCategory) -> SchemaRef {
    match category {
        crate::catalog::EventCategory::ActivityAuditLog => integration_schema(),
        _ => management_schema(),
    }
}

/// Column positions of [`integration_schema`], for builders that fill it.
pub mod col {
    pub const EVENT_VERSION: usize = 0;
    pub const EVENT_CATEGORY: usize = 1;
    pub const EVENT_TYPE: usize = 2;
    pub const EVENT_ID: usize = 3;
    pub const EVENT_TIME: usize = 4;
    pub const AWS_REGION: usize = 5;
    pub const RECIPIENT_ACCOUNT_ID: usize = 6;
    pub const ADDENDUM: usize = 7;
    pub const METADATA: usize = 8;
    pub const EVENT_DATA: usize = 9;
    pub const EVENT_JSON: usize = 10;
    pub const EVENT_JSON_CHECKSUM: usize = 11;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_lower_case() {
        fn check(fields: &Fields) {
            for f in fields {
                assert_eq!(f.name(), &f.name().to_lowercase());
                if let DataType::Struct(inner) = f.data_type() {
                    check(inner);
                }
            }
        }
        check(integration_schema().fields());
        check(management_schema().fields());
        assert_eq!(
            integration_schema().field(col::EVENT_JSON_CHECKSUM).name(),
            "eventjsonchecksum"
        );
    }
}
