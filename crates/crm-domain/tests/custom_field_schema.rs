//! The JSON Schema served for custom fields and the server's own validation agree: generated
//! values of every shape go through both, for a field of every type.

use crm_domain::contact_points::PhoneRegion;
use crm_domain::custom_fields::{
    FieldDefinition, FieldDraft, FieldEntity, FieldRules, FieldType, SelectOption,
};
use serde_json::{json, Value};

fn field(field_type: FieldType, rules: FieldRules) -> FieldDefinition {
    FieldDraft {
        entity: FieldEntity::Customer,
        key: "f".into(),
        label: "F".into(),
        help_text: None,
        field_type,
        required: false,
        default: None,
        position: 0,
        rules,
        unique: false,
    }
    .definition_probe()
}

/// Deterministic pseudo-random strings over an alphabet that hits the rules' edges.
fn generated_strings(count: usize) -> Vec<String> {
    let alphabet: Vec<char> = "aZ09 -_.@:/+é星2026T".chars().collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = (next() % 12) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn pool() -> Vec<Value> {
    let mut values: Vec<Value> = vec![
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(7),
        json!(5.0),
        json!(12.34),
        json!(12.345),
        json!(0.1),
        json!(1000000),
        json!(1000000.01),
        json!(-0.01),
        json!(9007199254740993_i64),
        json!(""),
        json!("ABC123"),
        json!("abc"),
        json!("AB"),
        json!("x".repeat(1001)),
        json!("2026-11-27"),
        json!("2026-02-30"),
        json!("2026-11-27T10:00:00Z"),
        json!("2026-11-27T10:00:00.123+08:00"),
        json!("2026-11-27T10:00:00"),
        json!("https://example.com/path?q=1"),
        json!("http://localhost:8080"),
        json!("ftp://example.com"),
        json!("example.com"),
        json!("gold"),
        json!("silver"),
        json!("old"),
        json!("Gold"),
        json!("0193a5c2-0000-7000-8000-000000000001"),
        json!([]),
        json!(["gold"]),
        json!(["gold", "silver"]),
        json!(["gold", "gold"]),
        json!(["old"]),
        json!(["bronze"]),
        json!([1]),
        json!({}),
        json!({"amount_minor": 1500, "currency": "CNY"}),
        json!({"amount_minor": 1500.0, "currency": "CNY"}),
        json!({"amount_minor": 15.5, "currency": "CNY"}),
        json!({"amount_minor": -1, "currency": "CNY"}),
        json!({"amount_minor": 1500, "currency": "USD"}),
        json!({"amount_minor": 1500}),
        json!({"amount_minor": 1500, "currency": "CNY", "note": "x"}),
    ];
    values.extend(generated_strings(300).into_iter().map(Value::String));
    values
}

fn options() -> Vec<SelectOption> {
    ["gold", "silver", "old"]
        .iter()
        .map(|k| SelectOption {
            key: (*k).into(),
            label: k.to_uppercase(),
            archived: *k == "old",
        })
        .collect()
}

#[test]
fn schema_and_server_agree_on_every_value() {
    let fields = [
        field(
            FieldType::Text,
            FieldRules {
                min_length: Some(2),
                max_length: Some(8),
                pattern: Some("[A-Za-z0-9]+".into()),
                ..FieldRules::default()
            },
        ),
        field(FieldType::LongText, FieldRules::default()),
        field(
            FieldType::Integer,
            FieldRules {
                min: Some(-1),
                max: Some(1_000_000),
                ..FieldRules::default()
            },
        ),
        field(
            FieldType::Decimal,
            FieldRules {
                decimal_places: Some(2),
                min: Some(-100),
                max: Some(100_000_000),
                ..FieldRules::default()
            },
        ),
        field(FieldType::Boolean, FieldRules::default()),
        field(FieldType::Date, FieldRules::default()),
        field(FieldType::DateTime, FieldRules::default()),
        field(
            FieldType::SingleSelect,
            FieldRules {
                options: options(),
                ..FieldRules::default()
            },
        ),
        field(
            FieldType::MultiSelect,
            FieldRules {
                options: options(),
                ..FieldRules::default()
            },
        ),
        field(FieldType::Url, FieldRules::default()),
        field(
            FieldType::Money,
            FieldRules {
                currency: Some("CNY".into()),
                min: Some(0),
                ..FieldRules::default()
            },
        ),
        // The schema cannot know which numbers, addresses and users exist: for these the
        // server may refuse more, never accept more.
        field(FieldType::Phone, FieldRules::default()),
        field(FieldType::Email, FieldRules::default()),
        field(FieldType::User, FieldRules::default()),
    ];
    let exact = |t: FieldType| !matches!(t, FieldType::Phone | FieldType::Email | FieldType::User);
    let user = "0193a5c2-0000-7000-8000-000000000001";
    let mut disagreements = Vec::new();
    for definition in &fields {
        let schema = definition.value_schema();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{}: {e}", definition.field_type.as_str()));
        for value in pool() {
            let server = definition
                .check_value(&value, "/f", PhoneRegion::default(), &|id| id == user)
                .is_ok();
            let client = validator.is_valid(&value);
            let agrees = if exact(definition.field_type) {
                server == client
            } else {
                !server || client
            };
            if !agrees {
                disagreements.push(format!(
                    "{}: {value} server {server}, schema {client}",
                    definition.field_type.as_str()
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
