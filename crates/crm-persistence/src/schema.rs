//! Diesel table definitions, identical for both backends (portable column types only).

diesel::table! {
    /// The single row identifying this installation.
    installation (id) {
        id -> Integer,
        instance_id -> Text,
        created_at -> Timestamp,
    }
}
